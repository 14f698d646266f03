//! dockerd (→ its containerd → containerd-shim-runc-v2 → the runtime, a daemon.json
//! `runtimes` entry): every scenario with runc (the control) and with vessel. dockerd
//! has no way to join a network namespace by path (only `container:NAME`), so that
//! scenario is podman's and containerd's.

use std::path::Path;
use std::time::{Duration, Instant};

use vessel_clients::Skip;
use vessel_clients::docker::{Docker, IMAGE};

fn with_docker(test: &str, runtime: Result<std::path::PathBuf, Skip>, body: impl FnOnce(&Docker)) {
    match runtime.and_then(|r| Docker::new(&r)) {
        Ok(docker) => body(&docker),
        Err(skip) => skip.report(test),
    }
}

/// One test per runtime for each scenario.
macro_rules! scenario {
    ($name:ident) => {
        mod $name {
            #[test]
            fn runc() {
                super::with_docker(
                    concat!(stringify!($name), "::runc"),
                    vessel_clients::runtime::runc(),
                    super::$name,
                );
            }
            #[test]
            fn vessel() {
                super::with_docker(
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
scenario!(terminal_through_the_console_socket);

fn run_and_print(docker: &Docker) {
    let out = docker.ok(&["run", "--rm", IMAGE, "echo", "hi"]);
    assert_eq!(out, "hi\n");
}

fn exit_codes(docker: &Docker) {
    let code = |args: &[&str]| docker.docker(args).status.code();
    assert_eq!(code(&["run", "--rm", IMAGE, "sh", "-c", "exit 3"]), Some(3));
    assert_eq!(code(&["run", "--rm", IMAGE, "/no/such/command"]), Some(127));
    assert_eq!(code(&["run", "--rm", IMAGE, "/etc/passwd"]), Some(126));
    let id = docker.ok(&["run", "-d", IMAGE, "sleep", "1000"]);
    docker.ok(&["kill", "--signal", "KILL", id.trim()]);
    assert_eq!(docker.ok(&["wait", id.trim()]).trim(), "137");
}

fn hostname_and_pid_1(docker: &Docker) {
    let out = docker.ok(&[
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

fn detached_exec_logs_stop_rm(docker: &Docker) {
    let id = docker.ok(&[
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
        docker
            .ok(&["exec", "sleeper", "cat", "/etc/hostname"])
            .trim(),
        &id.trim()[..12]
    );
    assert_eq!(
        docker
            .ok(&["exec", "sleeper", "sh", "-c", "echo $$"])
            .trim()
            .parse::<u32>()
            .map(|p| p > 1),
        Ok(true)
    );
    let exited = docker.docker(&["exec", "sleeper", "sh", "-c", "exit 4"]);
    assert_eq!(exited.status.code(), Some(4));
    wait_for("the container's output in docker logs", || {
        docker.ok(&["logs", "sleeper"]).contains("ready")
    });
    docker.ok(&["stop", "--time", "1", "sleeper"]);
    let state = docker.ok(&["inspect", "--format", "{{.State.Status}}", "sleeper"]);
    assert_eq!(state.trim(), "exited");
    docker.ok(&["rm", "sleeper"]);
    assert!(!docker.docker(&["inspect", "sleeper"]).status.success());
}

fn memory_limit_in_the_cgroup(docker: &Docker) {
    let id = docker.ok(&["run", "-d", "--memory", "64m", IMAGE, "sleep", "1000"]);
    let id = id.trim();
    let pid = docker.ok(&["inspect", "--format", "{{.State.Pid}}", id]);
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
        Path::new(&memory).starts_with(docker.cgroup_parent()),
        "{memory} is not under {}",
        docker.cgroup_parent().display()
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
    // docker asks for as much swap as memory (`memory.swap` = 2 × the limit).
    let memsw = std::fs::read_to_string(v1.join("memory.memsw.limit_in_bytes")).unwrap();
    assert_eq!(memsw.trim(), (128u64 << 20).to_string());
    docker.ok(&["rm", "--force", id]);
}

fn network_none(docker: &Docker) {
    let out = docker.ok(&[
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

/// `docker run -it`: the container's terminal comes back through the console socket
/// (the shim's); driven here through a pty of our own.
fn terminal_through_the_console_socket(docker: &Docker) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut command = std::process::Command::new("timeout");
    command.arg("60").arg(vessel_clients::docker::DOCKER);
    let docker_cmd = docker.command(&[
        "run",
        "-it",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "tty; stty size; echo done",
    ]);
    command
        .args(docker_cmd.get_args())
        .envs(docker_cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
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
    assert!(status.success(), "docker run -it: {status}: {text}");
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
