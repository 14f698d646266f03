//! podman driving an OCI runtime: every scenario runs twice, with runc (the control,
//! which must pass too) and with vessel. A scenario that fails only for vessel is
//! vessel's bug.

use std::path::Path;
use std::time::{Duration, Instant};

use vessel_clients::Skip;
use vessel_clients::podman::{IMAGE, Podman};

fn with_podman(test: &str, runtime: Result<std::path::PathBuf, Skip>, body: impl FnOnce(&Podman)) {
    match runtime.and_then(|r| Podman::new(&r)) {
        Ok(podman) => body(&podman),
        Err(skip) => skip.report(test),
    }
}

/// One test per runtime for each scenario.
macro_rules! scenario {
    ($name:ident) => {
        mod $name {
            #[test]
            fn runc() {
                super::with_podman(
                    concat!(stringify!($name), "::runc"),
                    vessel_clients::runtime::runc(),
                    super::$name,
                );
            }
            #[test]
            fn vessel() {
                super::with_podman(
                    concat!(stringify!($name), "::vessel"),
                    vessel_clients::runtime::vessel(),
                    super::$name,
                );
            }
        }
    };
}

scenario!(run_and_print);
scenario!(exit_codes);
scenario!(hostname_and_pid_1);
scenario!(detached_exec_logs_stop_rm);
scenario!(memory_limit_in_the_cgroup);
scenario!(network_none);
scenario!(network_namespace_joined_by_path);
scenario!(terminal_through_the_console_socket);
scenario!(process_tree);

// ANCHOR: podman_tree
/// podman → conmon → the container: once `podman run -d` returns, the container's first
/// process is a child of conmon (its per-container monitor), and neither podman nor the
/// runtime is in its ancestry: both have exited.
fn process_tree(podman: &Podman) {
    let id = podman.ok(&["run", "-d", IMAGE, "sleep", "1000"]);
    let pid: i32 = podman
        .ok(&["inspect", "--format", "{{.State.Pid}}", id.trim()])
        .trim()
        .parse()
        .expect("podman inspect gives the container's pid");
    let chain = vessel_clients::process_tree::ancestry(pid).unwrap();
    eprintln!("{}", vessel_clients::process_tree::draw(&chain));
    let tree = vessel_clients::process_tree::draw(&chain);
    assert_eq!(chain[0].comm, "sleep", "{tree}");
    assert_eq!(
        chain[1].comm, "conmon",
        "the container's parent is conmon: {tree}"
    );
    let runtime = podman.runtime().file_name().unwrap().to_string_lossy();
    for ancestor in &chain[1..] {
        assert!(
            ancestor.comm != "podman",
            "podman is still an ancestor: {tree}"
        );
        assert!(
            ancestor.comm != runtime,
            "the runtime is still an ancestor: {tree}"
        );
    }
    podman.ok(&["rm", "--force", "--time", "0", id.trim()]);
}
// ANCHOR_END: podman_tree

fn run_and_print(podman: &Podman) {
    let out = podman.ok(&["run", "--rm", IMAGE, "echo", "hi"]);
    assert_eq!(out, "hi\n");
}

fn exit_codes(podman: &Podman) {
    let code = |args: &[&str]| podman.output(args).status.code();
    assert_eq!(code(&["run", "--rm", IMAGE, "sh", "-c", "exit 3"]), Some(3));
    assert_eq!(code(&["run", "--rm", IMAGE, "/no/such/command"]), Some(127));
    assert_eq!(code(&["run", "--rm", IMAGE, "/etc/passwd"]), Some(126));
    let id = podman.ok(&["run", "-d", IMAGE, "sleep", "1000"]);
    podman.ok(&["kill", "--signal", "KILL", id.trim()]);
    assert_eq!(podman.ok(&["wait", id.trim()]).trim(), "137");
}

fn hostname_and_pid_1(podman: &Podman) {
    let out = podman.ok(&[
        "run",
        "--rm",
        "--hostname",
        "box",
        IMAGE,
        "sh",
        "-c",
        "hostname; echo $$",
    ]);
    assert_eq!(out, "box\n1\n");
}

fn detached_exec_logs_stop_rm(podman: &Podman) {
    let id = podman.ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        IMAGE,
        "sh",
        "-c",
        "echo ready; exec sleep 1000",
    ]);
    assert!(!id.trim().is_empty());
    assert_eq!(
        podman
            .ok(&["exec", "sleeper", "cat", "/etc/hostname"])
            .trim(),
        &id.trim()[..12]
    );
    assert_eq!(
        podman
            .ok(&["exec", "sleeper", "sh", "-c", "echo $$"])
            .trim()
            .parse::<u32>()
            .map(|p| p > 1),
        Ok(true)
    );
    let exited = podman.output(&["exec", "sleeper", "sh", "-c", "exit 4"]);
    assert_eq!(exited.status.code(), Some(4));
    wait_for("the container's output in podman logs", || {
        podman.ok(&["logs", "sleeper"]).contains("ready")
    });
    podman.ok(&["stop", "--time", "1", "sleeper"]);
    let state = podman.ok(&["inspect", "--format", "{{.State.Status}}", "sleeper"]);
    assert_eq!(state.trim(), "exited");
    podman.ok(&["rm", "sleeper"]);
    assert!(!podman.output(&["inspect", "sleeper"]).status.success());
}

fn memory_limit_in_the_cgroup(podman: &Podman) {
    let id = podman.ok(&["run", "-d", "--memory", "64m", IMAGE, "sleep", "1000"]);
    let id = id.trim();
    let pid = podman.ok(&["inspect", "--format", "{{.State.Pid}}", id]);
    let cgroups = std::fs::read_to_string(format!("/proc/{}/cgroup", pid.trim())).unwrap();
    let memory = cgroups
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()))
        .or_else(|| {
            cgroups
                .lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
        })
        .unwrap();
    assert!(
        Path::new(&memory).starts_with(podman.cgroup_parent()),
        "{memory} is not under {}",
        podman.cgroup_parent().display()
    );
    let v1 = Path::new("/sys/fs/cgroup/memory").join(memory.trim_start_matches('/'));
    let limit = std::fs::read_to_string(v1.join("memory.limit_in_bytes"))
        .or_else(|_| {
            std::fs::read_to_string(
                Path::new("/sys/fs/cgroup")
                    .join(memory.trim_start_matches('/'))
                    .join("memory.max"),
            )
        })
        .unwrap();
    assert_eq!(limit.trim(), (64u64 << 20).to_string());
    podman.ok(&["rm", "--force", "--time", "0", id]);
}

fn network_none(podman: &Podman) {
    let out = podman.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        IMAGE,
        "cat",
        "/proc/net/dev",
    ]);
    let devices: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(devices, ["lo"]);
}

/// podman's own network for a container: a network namespace (made by the test, a
/// file under podman's work directory) joined by path, `--network ns:PATH`, which podman
/// writes as `linux.namespaces[network].path`. The container sees the address the test
/// gave that namespace and reaches a server listening there: all traffic stays inside.
fn network_namespace_joined_by_path(podman: &Podman) {
    let netns = podman.dir("netns");
    std::fs::write(&netns, "").unwrap();
    let status = std::process::Command::new("unshare")
        .arg(format!("--net={}", netns.display()))
        .arg("true")
        .status()
        .unwrap();
    assert!(status.success(), "unshare --net={}", netns.display());
    let in_netns = |args: &[&str]| {
        std::process::Command::new("nsenter")
            .arg(format!("--net={}", netns.display()))
            .args(args)
            .status()
            .unwrap()
    };
    assert!(in_netns(&["ip", "link", "set", "lo", "up"]).success());
    assert!(in_netns(&["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"]).success());
    let network = format!("ns:{}", netns.display());
    let out = podman.ok(&[
        "run",
        "--rm",
        "--network",
        &network,
        IMAGE,
        "ip",
        "-o",
        "addr",
        "show",
        "lo",
    ]);
    assert!(out.contains("10.77.0.1"), "{out}");
}

/// `podman run -it`: the container's terminal comes back through the console socket
/// (conmon's); driven here through a pty of our own.
fn terminal_through_the_console_socket(podman: &Podman) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut command = std::process::Command::new("timeout");
    command.arg("60").arg(vessel_clients::podman::PODMAN);
    let podman_cmd = podman.command(&[
        "run",
        "-it",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "tty; stty size; echo done",
    ]);
    command
        .args(podman_cmd.get_args())
        .envs(podman_cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    command
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    // Bounded: a client that never prints "done" nor exits fails the test, not hangs it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        use std::os::fd::AsFd;
        if !vessel::test_support::readable_before(master.as_fd(), deadline).unwrap_or(false) {
            let _ = child.kill();
            break;
        }
        match std::io::Read::read(&mut master, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
        }
        if String::from_utf8_lossy(&text).contains("done") {
            break;
        }
    }
    let status = child.wait().unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(status.success(), "podman run -it: {status}: {text}");
    assert!(text.contains("/dev/pts/0"), "{text}");
}

/// Waits (10 s at most) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
