//! The `vessel` binary as a user meets it: output, exit codes, messages.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};

use vessel::test_support::{BOUND, wait_within};

fn vessel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .expect("run vessel")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn run_prints_pid_1_and_a_generated_hostname() {
    vessel::require_root!();
    let out = vessel(&["run", "--rm", "--", "/bin/sh", "-c", "echo $$; hostname"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1"));
    let hostname = lines.next().unwrap();
    assert!(
        hostname.len() == 12 && hostname.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hostname}"
    );
}

#[test]
fn run_passes_the_exit_code_on() {
    vessel::require_root!();
    assert_eq!(
        vessel(&["run", "--rm", "--", "sh", "-c", "exit 42"])
            .status
            .code(),
        Some(42)
    );
}

#[test]
fn run_reports_a_missing_command_with_127() {
    vessel::require_root!();
    let out = vessel(&["run", "--rm", "--", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(stderr(&out).starts_with("vessel: \"/nonexistent\": command not found"));
}

#[test]
fn run_reports_a_missing_rootfs_with_125() {
    let out = vessel(&["run", "--rootfs", "/no/such/dir", "--", "sh"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("rootfs \"/no/such/dir\": no such directory"));
}

#[test]
fn run_without_a_command_runs_the_image_cmd_and_a_plain_rootfs_explains_the_double_dash() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_str().unwrap();
    // The base image's CMD is /bin/sh, as for docker's busybox: with no input it exits.
    let out = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(["--root", root, "run", "--rm"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A plain directory has no CMD to fall back on.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = vessel(&["--root", root, "run", "--rootfs", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("no command given"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn env_workdir_and_chroot_flags_reach_the_container() {
    vessel::require_root!();
    let out = vessel(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "-w",
        "/etc",
        "--chroot",
        "--hostname",
        "flags",
        "--",
        "sh",
        "-c",
        "echo $A $(pwd) $(hostname)",
    ]);
    assert_eq!(stdout(&out), "1 /etc flags\n", "{}", stderr(&out));
}

#[test]
fn rootfs_prints_the_cached_directory() {
    vessel::require_root!();
    let out = vessel(&["rootfs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = stdout(&out);
    assert!(
        std::path::Path::new(dir.trim()).join("bin/sh").exists(),
        "{dir}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["run", "--help"], &["rootfs", "--help"]] {
        let out = vessel(args);
        assert!(out.status.success());
        assert!(stdout(&out).contains("Usage: vessel"), "{}", stdout(&out));
    }
}

/// The classic bug: on hosts where `/` is a shared mount (every systemd host), a container
/// that forgets `MS_PRIVATE` leaks every mount it makes to the host. This host's `/` may
/// be private, so the test makes a throw-away mount namespace whose `/` is shared (as on
/// systemd) and runs the container from there.
#[test]
fn mounts_made_inside_never_propagate_to_a_shared_host_root() {
    vessel::require_root!();
    let script = format!(
        "before=$(wc -l < /proc/self/mountinfo); \
         {} run --rm -- mount -t tmpfs tmpfs /mnt >&2; \
         after=$(wc -l < /proc/self/mountinfo); \
         echo $before $after; grep -c shared: /proc/self/mountinfo",
        env!("CARGO_BIN_EXE_vessel")
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "shared", "sh", "-c", &script])
        .output()
        .expect("run unshare (util-linux)");
    let text = stdout(&out);
    let mut lines = text.lines();
    let counts: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let shared: usize = lines.next().unwrap_or_default().parse().unwrap_or(0);
    assert!(
        shared > 0,
        "the test namespace should have shared mounts: {text}"
    );
    assert_eq!(counts.len(), 2, "{text} {}", stderr(&out));
    assert_eq!(
        counts[0], counts[1],
        "a container mount reached the host: {text}"
    );
}

/// A minimal OCI bundle whose root is the default rootfs, given by absolute path.
fn bundle(args: &[&str]) -> tempfile::TempDir {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"{{"ociVersion": "1.0.2",
            "root": {{"path": {rootfs:?}}},
            "process": {{"user": {{"uid": 0, "gid": 0}}, "args": {args:?}, "cwd": "/",
                         "env": ["PATH=/bin:/usr/bin"]}},
            "hostname": "bundled",
            "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "uts"}}],
                       "cgroupsPath": "vessel-test-bundle/box",
                       "resources": {{"pids": {{"limit": 32}}}}}}}}"#
    );
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    dir
}

#[test]
fn run_bundle_runs_what_config_json_describes() {
    vessel::require_root!();
    let dir = bundle(&[
        "/bin/sh",
        "-c",
        "echo $$ $(hostname) $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo -)",
    ]);
    let out = vessel(&["run", "--bundle", dir.path().to_str().unwrap(), "box"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("1 bundled "), "{text}");
}

#[test]
fn run_bundle_explains_a_missing_config_and_a_missing_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let out = vessel(&["run", "--bundle", path, "box"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("read config.json (check the bundle holds an OCI runtime config)"),
        "{}",
        stderr(&out)
    );
    let out = vessel(&["run", "--bundle", path, "box", "extra"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("takes exactly one container id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_detached_rm_container_leaves_no_record_layers_or_name_behind() {
    vessel::require_root!();
    let name = format!("rm-test-{}", std::process::id());
    let out = vessel(&["run", "-d", "--rm", "--name", &name, "--", "sleep", "1000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    let state = vessel::state::StateDir::open().unwrap();
    let shim = state.find(&name).expect("a record while it runs").shim_pid;
    assert!(vessel(&["kill", &name]).status.success());
    vessel::state::process::wait_until_gone(shim).expect("wait for the shim");
    assert!(state.find(&name).is_err(), "the record outlived --rm");
    let layers = vessel::state::paths::layers(&vessel::rootfs::state_root(), &id.parse().unwrap());
    assert!(!layers.dir().exists(), "{:?} outlived --rm", layers.dir());
}

#[test]
fn run_trace_prints_the_stages_of_the_start() {
    vessel::require_root!();
    let out = vessel(&["run", "--rm", "--trace", "-m", "64m", "--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.starts_with("vessel: start-up took "), "{text}");
    // No "attach to cgroup" on cgroup v2: the child is born in its cgroup there.
    for stage in ["clone3", "create cgroup", "pivot_root(", "execve(true)"] {
        assert!(text.contains(stage), "{stage:?} missing from:\n{text}");
    }
}

/// The write end of a pipe whose reader has already gone: every write to it fails with
/// EPIPE, as `vessel images | head -0` makes vessel's stdout.
fn stdout_with_no_reader() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array it is given.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned by no one else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

fn assert_quiet(out: &Output, args: &[&str]) {
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(out));
    assert_eq!(stderr(out), "", "{args:?} said something about it");
}

/// A reader that went away (`vessel images | head -0`) ends the output: no panic (it was
/// exit 101 with "failed printing to stdout"), no message, and the command's own code.
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 7] = [
        &["images"],
        &["image", "ls"],
        &["container", "ls"],
        &["ps", "-a"],
        &["--help"],
        &["run", "--help"],
        &["--version"],
    ];
    for args in commands {
        let out = with_stdout_closed(tmp.path(), args);
        assert_quiet(&out, args);
    }
}

/// The same for the commands that print about containers: `run -d` (the id), `ps`,
/// `inspect`, `logs`, `wait`, `rm`, and `rootfs`.
#[test]
fn a_closed_stdout_ends_container_output_quietly() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let commands: [&[&str]; 8] = [
        &["rootfs"],
        &["run", "-d", "--name", "quiet", "--", "echo", "hello"],
        &["wait", "quiet"],
        &["ps", "-a"],
        &["ps", "-a", "--format", "json"],
        &["inspect", "quiet"],
        &["logs", "quiet"],
        &["rm", "quiet"],
    ];
    for args in commands {
        let out = with_stdout_closed(root, args);
        if args[0] == "rootfs" {
            // It says on stderr where the rootfs came from; stdout gets the path.
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        } else {
            assert_quiet(&out, args);
        }
    }
}
/// `vessel --root ROOT ARGS` with its stdout on a pipe no one reads any more: its exit
/// and stderr, waited for at most [`BOUND`].
fn with_stdout_closed(root: &std::path::Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("VESSEL_RUN_DIR")
        .stdout(Stdio::from(stdout_with_no_reader()))
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vessel");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let status = wait_within(&mut child, BOUND)
        .expect("wait for vessel")
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("vessel did not exit within {BOUND:?}")
        });
    let mut text = Vec::new();
    // It has exited: what it wrote is all in the pipe (nothing it started writes there).
    std::io::Read::read_to_end(&mut stderr, &mut text).expect("read stderr");
    Output {
        status,
        stdout: Vec::new(),
        stderr: text,
    }
}

/// Flag errors exit 125, as docker's own do (`docker run --foo`, `docker run -m -1`), with
/// the message naming the flag; only `--help` and `--version` exit 0.
#[test]
fn bad_flags_and_values_exit_125_with_the_reason() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["run", "--foo", "--", "true"],
            "unexpected argument '--foo'",
        ),
        (
            &["run", "-m", "-1", "--", "true"],
            "--memory -1: expected a number",
        ),
        (
            &["run", "--cpus", "-1", "--", "true"],
            "--cpus -1: expected a positive",
        ),
        (
            &["run", "--pids-limit", "-1", "--", "true"],
            "--pids-limit -1: expected",
        ),
        (
            &["run", "-v", "bad", "--", "true"],
            "volume \"bad\": expected HOST:CTR",
        ),
        (&["logs", "--tail", "-1", "x"], "unexpected argument '-1'"),
        (&["no-such-command"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let out = vessel(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    for args in [&["--version"][..], &["run", "--help"]] {
        let out = vessel(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("vessel"), "{args:?}");
    }
}
