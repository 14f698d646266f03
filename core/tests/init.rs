//! vessel-init, the PID 1 of `vessel run --init`: it forwards signals to its command,
//! reaps every orphan handed to it, and exits as its command did.
//!
//! The first tests run the init on the host (it makes itself a child subreaper there,
//! so orphans come to it as they would to PID 1) and need no privileges; the last ones
//! run the static copy the `vessel` binary carries, as PID 1 of real containers.

//!
//! Every read and wait here is bounded ([`BOUND`]): a signal that never arrives fails
//! the test instead of hanging it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vessel::image::Store;
use vessel::test_support::{BOUND, BoundedLines, HeldContainer, output_within, wait_within};
use vessel::{ContainerSpec, ExitStatus};

/// vessel-init on the host, in a process group of its own. If a test fails before it
/// has waited for the init, dropping this kills the whole group — the init, its command
/// and every orphan — so a failing test leaves no process behind.
struct HostInit {
    child: Child,
    waited: bool,
}

impl HostInit {
    fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, waited for at most [`BOUND`] (then the test fails, and the drop
    /// kills the group).
    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = wait_within(&mut self.child, BOUND)?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "vessel-init did not exit")
        })?;
        self.waited = true;
        Ok(status)
    }
}

impl Drop for HostInit {
    fn drop(&mut self) {
        if !self.waited {
            // SAFETY: kill only sends a signal. The group is the unreaped init's own
            // (process_group(0) made its pid the group id), so it names our processes.
            unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

/// Starts `vessel-init -- sh -c SCRIPT` on the host with stdout on a pipe.
fn init(script: &str) -> (HostInit, BoundedLines) {
    init_ignoring(script, &[])
}

/// [`init`], with the init started with `ignored` signals ignored, as `nohup` (SIGHUP)
/// or a shell's background job (SIGINT, SIGQUIT) starts a program.
fn init_ignoring(script: &str, ignored: &[i32]) -> (HostInit, BoundedLines) {
    let ignored = ignored.to_vec();
    let mut command = Command::new(env!("CARGO_BIN_EXE_vessel-init"));
    command
        .args(["--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only calls signal(),
    // which is async-signal-safe; `ignored` was allocated before the fork.
    unsafe {
        command.pre_exec(move || {
            for &signal in &ignored {
                libc::signal(signal, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start vessel-init");
    let lines = BoundedLines::new(child.stdout.take().unwrap(), BOUND);
    (
        HostInit {
            child,
            waited: false,
        },
        lines,
    )
}

fn next(lines: &mut BoundedLines) -> String {
    lines
        .next_line()
        .expect("read a line within the bound")
        .expect("a line, not end-of-file")
}

fn kill(pid: i32, signal: i32) {
    // SAFETY: kill only sends a signal; the pid is a process this test started (or its
    // init's child), not yet reaped, so it cannot have been reused.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill({pid}, {signal})");
}

fn pidfd_open(pid: i32) -> OwnedFd {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    assert!(
        fd >= 0,
        "pidfd_open({pid}): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the fd was just created and is owned by no one else.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Polls a pidfd for `events`; true if it became ready within `timeout` (a bound on a
/// failing test, not a measurement).
fn poll(fd: &OwnedFd, events: libc::c_short, timeout: Duration) -> bool {
    let mut entry = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd that outlives the call.
    let ready = unsafe { libc::poll(&mut entry, 1, timeout.as_millis() as i32) };
    ready > 0
}

#[test]
fn the_exit_status_passes_through() {
    let (mut child, _) = init("exit 7");
    assert_eq!(child.wait().unwrap().code(), Some(7));
    // Killed by signal n: 128 + n, as a shell reports it.
    let (mut child, _) = init("kill -KILL $$");
    assert_eq!(child.wait().unwrap().code(), Some(128 + 9));
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_vessel-init")).args(["--", "/no/such/program"]),
        BOUND,
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /no/such/program"));
    let usage = output_within(&mut Command::new(env!("CARGO_BIN_EXE_vessel-init")), BOUND).unwrap();
    assert_eq!(usage.status.code(), Some(125));
}

/// Each signal is also *ignored* when the init starts (as under `nohup`, or in a
/// background job): the init must still hand it to its command at its default action,
/// since a shell cannot trap a signal that was ignored when it started.
#[test]
fn every_forwarded_signal_reaches_the_command() {
    let signals = [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("WINCH", libc::SIGWINCH),
    ];
    let ignored: Vec<i32> = signals.iter().map(|&(_, number)| number).collect();
    for (name, number) in signals {
        // The trap says which signal came and exits with its number; `wait` returns as
        // soon as a trapped signal arrives.
        let script = format!(
            "trap 'echo got {name}; kill $!; exit {number}' {name}; sleep 1000 & echo ready; wait"
        );
        let (mut child, mut lines) = init_ignoring(&script, &ignored);
        assert_eq!(next(&mut lines), "ready");
        kill(child.id() as i32, number);
        assert_eq!(next(&mut lines), format!("got {name}"));
        assert_eq!(child.wait().unwrap().code(), Some(number), "SIG{name}");
    }
}

#[test]
fn a_signal_that_kills_the_command_ends_the_init_with_128_plus_n() {
    // `exec`: the shell becomes sleep, which dies of SIGTERM (it is not PID 1 here).
    let (mut child, mut lines) = init("echo ready; exec sleep 1000");
    assert_eq!(next(&mut lines), "ready");
    kill(child.id() as i32, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGTERM));
}

#[test]
fn orphans_are_reaped_while_the_command_runs() {
    // The inner shell exits at once, so its `sleep` is re-parented to the init.
    let (mut child, mut lines) = init("sh -c 'sleep 1000 & echo $!'; echo ready; exec sleep 1000");
    let orphan: i32 = next(&mut lines).parse().unwrap();
    assert_eq!(next(&mut lines), "ready");
    let status = std::fs::read_to_string(format!("/proc/{orphan}/status")).unwrap();
    let parent = status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap();
    assert_eq!(
        parent.trim(),
        child.id().to_string(),
        "the orphan is the init's child"
    );

    let pidfd = pidfd_open(orphan);
    kill(orphan, libc::SIGKILL);
    // A pidfd polled for no events reports POLLHUP once the process has been reaped:
    // a zombie left behind would keep it quiet.
    assert!(
        poll(&pidfd, 0, Duration::from_secs(30)),
        "the orphan was not reaped"
    );
    assert!(!std::path::Path::new(&format!("/proc/{orphan}")).exists());
    kill(child.id() as i32, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGTERM));
}

#[test]
fn a_burst_of_orphans_is_reaped_whole() {
    // Fifty orphans die at once: the kernel may merge their SIGCHLDs into one, so the
    // init must reap until nothing is left, not once per signal.
    let (mut child, mut lines) = init(
        "sh -c 'p=; i=0; while [ $i -lt 50 ]; do sleep 1000 & p=\"$p $!\"; i=$((i+1)); done; echo $p'; \
         echo ready; exec sleep 1000",
    );
    let orphans: Vec<i32> = next(&mut lines)
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(orphans.len(), 50);
    assert_eq!(next(&mut lines), "ready");
    let pidfds: Vec<OwnedFd> = orphans.iter().map(|&pid| pidfd_open(pid)).collect();
    for &pid in &orphans {
        kill(pid, libc::SIGKILL);
    }
    for (pid, pidfd) in orphans.iter().zip(&pidfds) {
        assert!(
            poll(pidfd, 0, Duration::from_secs(30)),
            "orphan {pid} was not reaped"
        );
    }
    kill(child.id() as i32, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGTERM));
}

/// A container of the base image in `store` running `script`, under vessel-init when
/// `init` (the static copy, bind-mounted read-only).
fn container(
    store: &Store,
    id: &str,
    script: &str,
    init: bool,
) -> (HeldContainer, vessel::image::ContainerFs) {
    let base = store.image("base").unwrap();
    let argv = ["/bin/sh", "-c", script].map(String::from).to_vec();
    let layers =
        vessel::image::ContainerFs::create(store, &id.parse().unwrap(), &base, id, &argv).unwrap();
    let mut spec = ContainerSpec::new(layers.merged(), argv).overlay(layers.overlay());
    if init {
        spec = vessel::init::prepare(spec, store.root(), Some(&layers.init())).unwrap();
    }
    (
        HeldContainer::start(&spec).expect("start the container"),
        layers,
    )
}

#[test]
fn in_a_container_init_is_pid_1_and_sigterm_reaches_a_shell_that_ignores_it_alone() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let script = "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; while :; do sleep 1; done";

    // Without init the shell is PID 1: the kernel drops SIGTERM (no handler), so it is
    // not even pending afterwards, and SIGKILL is what ends it.
    let (mut held, layers) = container(&store, "000000000001", script, false);
    assert_eq!(held.next_line().unwrap(), "1");
    held.running().kill(libc::SIGTERM).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", held.running().pid())).unwrap();
    let pending = |field: &str| {
        let hex = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .unwrap()
            .trim();
        u64::from_str_radix(hex, 16).unwrap() & (1 << (libc::SIGTERM - 1)) != 0
    };
    assert!(
        !pending("SigPnd:") && !pending("ShdPnd:"),
        "SIGTERM was dropped, not queued"
    );
    held.running().kill(libc::SIGKILL).unwrap();
    assert_eq!(held.release().unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    layers.remove().unwrap();

    // With init, the shell is PID 2 and dies of the forwarded SIGTERM; init exits 143.
    let (mut held, layers) = container(&store, "000000000002", script, true);
    assert_eq!(held.next_line().unwrap(), "2");
    assert!(
        held.next_line()
            .unwrap()
            .starts_with("/sbin/vessel-init -- /bin/sh -c")
    );
    let pidfd = pidfd_open(held.running().pid());
    held.running().kill(libc::SIGTERM).unwrap();
    assert!(
        poll(&pidfd, libc::POLLIN, BOUND),
        "the container did not end within {BOUND:?} of SIGTERM"
    );
    assert_eq!(
        held.release().unwrap(),
        ExitStatus::Exited(128 + libc::SIGTERM)
    );
    // The mount point lives in the init layer: nothing reached the writable layer.
    assert!(!layers.upper().join("sbin").exists());
    layers.remove().unwrap();
}

#[test]
fn the_cli_runs_the_command_under_init_and_passes_its_code_on() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .arg("--root")
            .arg(tmp.path())
            .args(["run", "--rm", "--init", "--", "sh", "-c"])
            .arg("cat /proc/1/cmdline | tr '\\0' ' '; echo; test -x /sbin/vessel-init && echo $$; exit 5")
            .env("VESSEL_RUN_DIR", tmp.path().join("run")),
        BOUND,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("/sbin/vessel-init -- sh -c")
    );
    assert_eq!(
        lines.next(),
        Some("2"),
        "the command is PID 2, under the init"
    );
    // Written once under the state root, named by its hash.
    let installed: Vec<_> = std::fs::read_dir(tmp.path().join("init"))
        .unwrap()
        .collect();
    assert_eq!(installed.len(), 1);
}

/// `vessel` with a state root (and run directory) of the test's own.
fn vessel(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    output_within(
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .arg("--root")
            .arg(root)
            .args(args)
            .env_remove("VESSEL_RUN_DIR"),
        BOUND,
    )
    .expect("run vessel")
}

#[test]
fn vessel_stop_ends_a_detached_shell_by_sigterm_only_under_init() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let text = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ticker = "while :; do echo tick; sleep 1; done";
    for (name, init, ended_by, code) in [
        ("web", true, "web: SIGTERM ended it", "143"),
        (
            "bare",
            false,
            "bare: it ignored SIGTERM; SIGKILL ended it after the timeout",
            "137",
        ),
    ] {
        let mut args = vec!["run", "-d", "--name", name];
        if init {
            args.push("--init");
        }
        args.extend(["--", "sh", "-c", ticker]);
        text(&vessel(root, &args));
        // A real 1 s timeout: the shell as PID 1 sits it out, the init does not.
        let stopped = text(&vessel(root, &["stop", "-t", "1", name]));
        assert_eq!(stopped.trim(), ended_by);
        assert_eq!(text(&vessel(root, &["wait", name])).trim(), code);
        text(&vessel(root, &["rm", name]));
    }
}

#[test]
fn on_a_plain_rootfs_the_init_is_mounted_on_the_containers_own_dev() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let rootfs = String::from_utf8(vessel(root, &["rootfs"]).stdout).unwrap();
    let rootfs = std::path::Path::new(rootfs.trim());
    let script = "cat /proc/1/cmdline | tr '\\0' ' '";
    // A plain directory (here the shared default rootfs): nothing may be created in it,
    // so the init is mounted on the container's own /dev. A --userns container runs on
    // a writable layer of its own over the same rootfs, where /sbin/vessel-init is made.
    for (extra, path) in [
        (
            &["--rootfs", rootfs.to_str().unwrap()][..],
            "/dev/vessel-init",
        ),
        (&["--userns"][..], "/sbin/vessel-init"),
    ] {
        let mut args = vec!["run", "--rm", "--init"];
        args.extend(extra);
        args.extend(["--", "sh", "-c", script]);
        let out = vessel(root, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with(&format!("{path} -- sh -c")),
            "{args:?}: {text}"
        );
    }
    assert!(!rootfs.join("sbin/vessel-init").exists());
    assert!(!rootfs.join("dev/vessel-init").exists());
}
