//! The scenarios every docker-CLI client runs with each runtime (podman and dockerd):
//! run and print, exit codes, hostname and pid 1, a detached container's exec, logs, stop
//! and rm, a memory limit in the container's cgroup, `--network none`, and `-it` through
//! the console socket. Each takes the client ([`DockerCli`]) and asserts what a user of
//! docker would expect; the test files run them with runc (the control) and with vessel.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::docker_cli::DockerCli;

/// `run --rm IMAGE echo hi` prints `hi`.
pub fn run_and_print(cli: &impl DockerCli) {
    let out = cli.ok(&["run", "--rm", cli.image(), "echo", "hi"]);
    assert_eq!(out, "hi\n");
}

/// The command's exit status comes back as docker's: its own code, 127 not found, 126
/// not executable, 137 killed by SIGKILL.
pub fn exit_codes(cli: &impl DockerCli) {
    let image = cli.image();
    let code = |args: &[&str]| cli.output(args).status.code();
    assert_eq!(code(&["run", "--rm", image, "sh", "-c", "exit 3"]), Some(3));
    assert_eq!(code(&["run", "--rm", image, "/no/such/command"]), Some(127));
    assert_eq!(code(&["run", "--rm", image, "/etc/passwd"]), Some(126));
    let id = cli.ok(&["run", "-d", image, "sleep", "1000"]);
    cli.ok(&["kill", "--signal", "KILL", id.trim()]);
    assert_eq!(cli.ok(&["wait", id.trim()]).trim(), "137");
}

/// `--hostname` is the container's, and its first process is pid 1.
pub fn hostname_and_pid_1(cli: &impl DockerCli) {
    let out = cli.ok(&[
        "run",
        "--rm",
        "--hostname",
        "box",
        cli.image(),
        "sh",
        "-c",
        "hostname; echo $$",
    ]);
    assert_eq!(out, "box\n1\n");
}

/// A detached container by name: `exec` joins it (its hostname is the short id, a new
/// process is not pid 1, the exec's exit code comes back), `logs` shows its output, `stop`
/// ends it, `rm` removes it.
pub fn detached_exec_logs_stop_rm(cli: &impl DockerCli) {
    let id = cli.ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        cli.image(),
        "sh",
        "-c",
        "echo ready; exec sleep 1000",
    ]);
    assert!(!id.trim().is_empty());
    assert_eq!(
        cli.ok(&["exec", "sleeper", "cat", "/etc/hostname"]).trim(),
        &id.trim()[..12]
    );
    assert_eq!(
        cli.ok(&["exec", "sleeper", "sh", "-c", "echo $$"])
            .trim()
            .parse::<u32>()
            .map(|p| p > 1),
        Ok(true)
    );
    let exited = cli.output(&["exec", "sleeper", "sh", "-c", "exit 4"]);
    assert_eq!(exited.status.code(), Some(4));
    wait_for(
        &format!("the container's output in {} logs", cli.name()),
        || cli.ok(&["logs", "sleeper"]).contains("ready"),
    );
    cli.ok(&["stop", "--time", "1", "sleeper"]);
    let state = cli.ok(&["inspect", "--format", "{{.State.Status}}", "sleeper"]);
    assert_eq!(state.trim(), "exited");
    cli.ok(&["rm", "sleeper"]);
    assert!(!cli.output(&["inspect", "sleeper"]).status.success());
}

/// `--memory 64m` is written into the container's own memory cgroup, which lies under
/// the client's cgroup parent; `also` names more files of that cgroup (cgroup v1) and the
/// value each must hold, for what a client adds of its own (docker's swap limit).
pub fn memory_limit_in_the_cgroup(cli: &impl DockerCli, also: &[(&str, u64)]) {
    let id = cli.ok(&["run", "-d", "--memory", "64m", cli.image(), "sleep", "1000"]);
    let id = id.trim();
    let pid = cli.ok(&["inspect", "--format", "{{.State.Pid}}", id]);
    let memory = memory_cgroup_of(pid.trim());
    assert!(
        Path::new(&memory).starts_with(cli.cgroup_parent()),
        "{memory} is not under {}",
        cli.cgroup_parent().display()
    );
    let v1 = Path::new("/sys/fs/cgroup/memory").join(memory.trim_start_matches('/'));
    let v2 = Path::new("/sys/fs/cgroup").join(memory.trim_start_matches('/'));
    let limit = std::fs::read_to_string(v1.join("memory.limit_in_bytes"))
        .or_else(|_| std::fs::read_to_string(v2.join("memory.max")))
        .unwrap();
    assert_eq!(limit.trim(), (64u64 << 20).to_string());
    for (file, expected) in also {
        let value = read(&v1.join(file));
        assert_eq!(value.trim(), expected.to_string(), "{file}");
    }
    cli.remove(id);
}

/// The container's memory cgroup path (v1's memory line, else v2's unified one), as
/// `/proc/PID/cgroup` gives it: relative to the hierarchy's root.
fn memory_cgroup_of(pid: &str) -> String {
    let cgroups = read(&PathBuf::from(format!("/proc/{pid}/cgroup")));
    cgroups
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()))
        .or_else(|| {
            cgroups
                .lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
        })
        .unwrap_or_else(|| panic!("no memory cgroup in /proc/{pid}/cgroup: {cgroups}"))
}

/// `--network none`: the container sees its loopback and nothing else.
pub fn network_none(cli: &impl DockerCli) {
    let out = cli.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        cli.image(),
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

/// `run -it`: the container's terminal comes back through the console socket (conmon's
/// under podman, the shim's under dockerd); driven here through a pty of our own.
pub fn terminal_through_the_console_socket(cli: &impl DockerCli) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut command = std::process::Command::new("timeout");
    command.arg("60").arg(cli.program());
    let client = cli.command(&[
        "run",
        "-it",
        "--rm",
        cli.image(),
        "sh",
        "-c",
        "tty; stty size; echo done",
    ]);
    command
        .args(client.get_args())
        .envs(client.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
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
    let deadline = Instant::now() + Duration::from_secs(60);
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
    assert!(status.success(), "{} run -it: {status}: {text}", cli.name());
    assert!(text.contains("/dev/pts/0"), "{text}");
}

/// Waits (10 s at most) until `done` holds: for what a client writes in the background
/// (its logs), which nothing can be waited on for.
pub fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
