//! The container's process is hardened as docker's, for `vessel run` and `vessel exec`:
//! no controlling terminal (TIOCSTI cannot type into the caller's shell), no inherited
//! descriptor, docker's seccomp profile, no_new_privs on request, a fresh session
//! keyring, `--ulimit` and namespaced `--sysctl` only. Real kernel, real containers.

mod cli_support;
mod security_support;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Output, Stdio};

use cli_support::{kill_and_wait, run, start_sleeper, text, vessel, vessel_in};
use security_support::{PROBE, probe_volume};

/// Runs the probe in a default container with `options`, returns its one-line answer.
fn probe(options: &[&str], call: &[&str]) -> String {
    let volume = probe_volume();
    let mut all = vec!["-v", volume.as_str()];
    all.extend_from_slice(options);
    let command: Vec<&str> = [PROBE].iter().chain(call).copied().collect();
    let out = run(&all, &command);
    assert!(out.status.success(), "{call:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn status_field(options: &[&str], field: &str) -> String {
    let out = run(options, &["grep", field, "/proc/self/status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

const EPERM: &str = "errno 1";

// --- controlling terminal --------------------------------------------------------

/// A pty pair; the slave is returned twice (once to become stdin, once to keep).
fn pty() -> (OwnedFd, OwnedFd) {
    let pair = nix::pty::openpty(None, None).expect("openpty");
    (pair.master, pair.slave)
}

#[test]
fn without_a_terminal_the_container_cannot_type_into_the_callers() {
    vessel::require_root!();
    let (master, slave) = pty();
    let dir = tempfile::tempdir().unwrap();
    let volume = probe_volume();
    let mut command = vessel_in(dir.path());
    command
        .args(["run", "--rm", "-v", &volume, "--", PROBE, "tiocsti", "0"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only setsid and ioctl, both async-signal-safe: vessel
    // runs as a shell's job would, with the pty as its controlling terminal.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    drop((master, slave));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // TIOCSTI needs the tty to be the caller's controlling terminal (or CAP_SYS_ADMIN,
    // which the container lacks): in a session of its own, it is refused.
    assert_eq!(text(&out.stdout).trim(), EPERM);
}

#[test]
fn the_container_leads_a_session_of_its_own_without_a_terminal() {
    vessel::require_root!();
    // /proc/self/stat fields 6 and 7: session id, controlling tty (0: none). The shell
    // is PID 1 of its namespace, and the cat it starts is in its session.
    let out = run(&[], &["sh", "-c", "cut -d' ' -f6,7 /proc/self/stat"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "1 0");
}

// --- file descriptors --------------------------------------------------------------

/// An fd in this process without close-on-exec (as `exec 7</etc` in a shell): vessel
/// inherits it.
fn leaky_fd() -> OwnedFd {
    let dir = std::fs::File::open("/etc").unwrap();
    // SAFETY: dup returns a new descriptor (without FD_CLOEXEC) that we then own.
    let fd = unsafe { libc::dup(dir.as_raw_fd()) };
    assert!(fd > 2);
    // SAFETY: `fd` was just returned by dup and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[test]
fn the_callers_descriptors_never_reach_the_container() {
    vessel::require_root!();
    let leaked = leaky_fd();
    let out = run(&[], &["ls", "/proc/self/fd"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // 0, 1, 2 and the directory ls opened to list them.
    assert_eq!(
        text(&out.stdout).split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    drop(leaked);
}

#[test]
fn the_library_closes_inherited_descriptors_too() {
    vessel::require_root!();
    let leaked = leaky_fd();
    let spec = vessel::ContainerSpec::new(
        vessel::rootfs::default_rootfs().unwrap(),
        ["ls", "/proc/self/fd"],
    );
    let out = vessel::output(&spec).unwrap();
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2", "3"],
        "{}",
        out.stderr
    );
    drop(leaked);
}

// --- seccomp -------------------------------------------------------------------------

#[test]
fn a_default_container_runs_under_dockers_seccomp_profile() {
    vessel::require_root!();
    assert_eq!(status_field(&[], "Seccomp:"), "2");
    assert_eq!(probe(&[], &["keyctl"]), EPERM);
    assert_eq!(probe(&[], &["unshare-user"]), EPERM);
    // AF_VSOCK (40) is refused, AF_UNIX (1) is not.
    assert_eq!(probe(&[], &["socket", "40"]), EPERM);
    assert!(probe(&[], &["socket", "1"]).starts_with("ok"));
    // personality: PER_LINUX is fine, READ_IMPLIES_EXEC (0x0400000) is not.
    assert!(probe(&[], &["personality", "0"]).starts_with("ok"));
    assert_eq!(probe(&[], &["personality", "4194304"]), EPERM);
}

#[test]
fn unconfined_privileged_and_cap_add_lift_what_they_should() {
    vessel::require_root!();
    assert_eq!(
        status_field(&["--security-opt", "seccomp=unconfined"], "Seccomp:"),
        "0"
    );
    assert_eq!(status_field(&["--privileged"], "Seccomp:"), "0");
    assert!(probe(&["--security-opt", "seccomp=unconfined"], &["keyctl"]).starts_with("ok"));
    // CAP_SYS_ADMIN brings unshare and mount back, as docker's profile says.
    assert!(probe(&["--cap-add", "SYS_ADMIN"], &["unshare-user"]).starts_with("ok"));
    let mount = ["sh", "-c", "mount -t tmpfs t /mnt && echo mounted"];
    let out = run(&["--cap-add", "SYS_ADMIN"], &mount);
    assert_eq!(text(&out.stdout), "mounted\n", "{}", text(&out.stderr));
}

#[test]
fn a_profile_file_is_docker_format_and_x32_cannot_bypass_it() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("deny-keyctl.json");
    // A deny-list profile: everything allowed but keyctl, refused with EACCES.
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["keyctl"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    )
    .unwrap();
    let option = format!("seccomp={}", profile.display());
    assert_eq!(probe(&["--security-opt", &option], &["keyctl"]), "errno 13");
    // The same call with the x32 bit: the kernel would run keyctl for it; the filter's
    // guard refuses every x32 call before any rule.
    assert_eq!(probe(&["--security-opt", &option], &["keyctl-x32"]), EPERM);

    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_NOTIFY","syscalls":[]}"#,
    )
    .unwrap();
    let out = run(&["--security-opt", &option], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("SCMP_ACT_NOTIFY"),
        "{}",
        text(&out.stderr)
    );
}

// --- no_new_privs, keyring ------------------------------------------------------------

#[test]
fn no_new_privileges_is_off_by_default_and_on_when_asked() {
    vessel::require_root!();
    assert_eq!(status_field(&[], "NoNewPrivs:"), "0");
    assert_eq!(
        status_field(&["--security-opt", "no-new-privileges"], "NoNewPrivs:"),
        "1"
    );
    assert_eq!(
        status_field(&["--security-opt", "no-new-privileges=true"], "NoNewPrivs:"),
        "1"
    );
    assert_eq!(
        status_field(
            &["--security-opt", "no-new-privileges=false"],
            "NoNewPrivs:"
        ),
        "0"
    );
    // With no_new_privs the filter is installed last, and still there.
    assert_eq!(
        status_field(&["--security-opt", "no-new-privileges"], "Seccomp:"),
        "2"
    );
}

/// This process's session keyring (the user-session keyring if it has none).
fn own_session_keyring() -> i64 {
    // SAFETY: KEYCTL_GET_KEYRING_ID(KEY_SPEC_SESSION_KEYRING, create=1): integers only.
    unsafe { libc::syscall(libc::SYS_keyctl, 0, -3i64, 1i64) }
}

#[test]
fn the_container_gets_a_session_keyring_of_its_own() {
    vessel::require_root!();
    let ours = own_session_keyring();
    assert!(ours > 0, "this kernel has no keyrings");
    // keyctl is refused by the default profile: look with seccomp off.
    let theirs = probe(
        &["--security-opt", "seccomp=unconfined"],
        &["session-keyring"],
    );
    let id: i64 = theirs.strip_prefix("ok ").unwrap_or("0").parse().unwrap();
    assert!(id > 0, "{theirs}");
    assert_ne!(
        id, ours,
        "the container shares the caller's session keyring"
    );
}

// --- ulimit, sysctl --------------------------------------------------------------------

#[test]
fn ulimits_are_set_and_one_above_vessels_hard_limit_is_refused_by_name() {
    vessel::require_root!();
    let out = run(
        &["--ulimit", "nofile=1024:2048"],
        &["sh", "-c", "ulimit -n; ulimit -Hn"],
    );
    assert_eq!(text(&out.stdout), "1024\n2048\n", "{}", text(&out.stderr));
    let mut own = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `own` is a live rlimit the kernel fills in.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut own) }, 0);
    let (effective, _, _) = vessel::security::capabilities::own().unwrap();
    if own.rlim_max != libc::RLIM_INFINITY && !effective.contains(24) {
        let above = format!("nofile={}", own.rlim_max + 1000);
        let out = run(&["--ulimit", &above], &["true"]);
        assert_eq!(out.status.code(), Some(125));
        assert!(
            text(&out.stderr).contains("--ulimit nofile"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn namespaced_sysctls_are_written_in_the_container_only() {
    vessel::require_root!();
    let host_msgmax = std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap();
    let out = run(
        &["--sysctl", "kernel.msgmax=12345"],
        &["cat", "/proc/sys/kernel/msgmax"],
    );
    assert_eq!(text(&out.stdout), "12345\n", "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap(),
        host_msgmax
    );
    let net = ["--network", "none", "--sysctl", "net.ipv4.ip_forward=1"];
    let out = run(&net, &["cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(text(&out.stdout), "1\n", "{}", text(&out.stderr));
    // Sharing the host's network namespace (no longer the default, which is a bridge
    // network of the container's own): refused before start.
    let host = ["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"];
    let out = run(&host, &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("network namespace"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_host_sysctl_is_refused_before_start_and_never_written() {
    vessel::require_root!();
    let before = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let out = run(
        &["--sysctl", "kernel.core_pattern=|/tmp/x"],
        &["echo", "started"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(text(&out.stdout), "", "the container must not start");
    assert!(
        text(&out.stderr).contains("not namespaced"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(),
        before
    );
}

// --- user ------------------------------------------------------------------------------------

/// A rootfs of the probe alone, with these `/etc/passwd` and `/etc/group` (`None`: a
/// symlink to the host's file, which must not be followed).
fn tiny_rootfs(passwd: Option<&str>, group: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("etc")).unwrap();
    match passwd {
        Some(text) => std::fs::write(dir.path().join("etc/passwd"), text).unwrap(),
        None => std::os::unix::fs::symlink("/etc/passwd", dir.path().join("etc/passwd")).unwrap(),
    }
    std::fs::write(dir.path().join("etc/group"), group).unwrap();
    std::fs::copy(
        security_support::probe_dir().join("probe"),
        dir.path().join("probe"),
    )
    .unwrap();
    dir
}

fn ids(rootfs: &std::path::Path, options: &[&str]) -> Output {
    let rootfs = rootfs.to_str().unwrap();
    let mut all = vec!["--rootfs", rootfs];
    all.extend_from_slice(options);
    run(&all, &["/probe", "ids"])
}

#[test]
fn user_names_come_from_the_images_passwd_and_group() {
    vessel::require_root!();
    let rootfs = tiny_rootfs(
        Some("root:x:0:0::/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\n"),
        "root:x:0:\napp:x:2345:\nwheel:x:10:app\nextra:x:77:\n",
    );
    let out = ids(rootfs.path(), &["--user", "app", "--group-add", "extra"]);
    // uid, gid, supplementary groups, and no effective capabilities for a non-root user.
    assert_eq!(
        text(&out.stdout).trim(),
        "1234 2345 10,77,2345 0000000000000000",
        "{}",
        text(&out.stderr)
    );
    let out = ids(rootfs.path(), &["--user", "4000:4001"]);
    assert_eq!(
        text(&out.stdout).trim(),
        "4000 4001 4001 0000000000000000",
        "{}",
        text(&out.stderr)
    );
    let out = ids(rootfs.path(), &["--user", "nobody-here"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("no such user"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_passwd_symlink_to_the_host_is_not_followed() {
    vessel::require_root!();
    // The host's /etc/passwd has `daemon`; the image's link to it must not find it.
    assert!(
        std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .contains("\ndaemon:")
    );
    let rootfs = tiny_rootfs(None, "");
    let out = ids(rootfs.path(), &["--user", "daemon"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no such user"),
        "{}",
        text(&out.stderr)
    );
}

// --- exec --------------------------------------------------------------------------------

#[test]
fn exec_gets_the_same_hardening() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let id = start_sleeper(vessel_in(dir.path()), &[]);
    let leaked = leaky_fd();
    let exec = |command: &[&str]| {
        let args: Vec<&str> = ["exec", id.as_str(), "--"]
            .iter()
            .chain(command)
            .copied()
            .collect();
        let out = vessel(dir.path(), &args);
        assert!(out.status.success(), "{command:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        exec(&["grep", "Seccomp:", "/proc/self/status"])
            .split_whitespace()
            .nth(1),
        Some("2")
    );
    assert_eq!(
        exec(&["ls", "/proc/self/fd"])
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    // Session leader of its own session (field 6 is its pid), no controlling tty.
    let stat = exec(&["sh", "-c", "echo $$; cut -d' ' -f6,7 /proc/$$/stat"]);
    let lines: Vec<&str> = stat.lines().collect();
    assert_eq!(lines[1], format!("{} 0", lines[0]));
    drop(leaked);
    let as_user = vessel(
        dir.path(),
        &[
            "exec",
            "--user",
            "1000:1000",
            &id,
            "--",
            "grep",
            "-E",
            "^(Uid|Gid|CapEff):",
            "/proc/self/status",
        ],
    );
    let seen: Vec<String> = text(&as_user.stdout)
        .lines()
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        seen,
        ["Uid: 1000", "Gid: 1000", "CapEff: 0000000000000000"],
        "{}",
        text(&as_user.stderr)
    );
    kill_and_wait(vessel_in(dir.path()), dir.path(), &id);
}

#[test]
fn exec_into_a_privileged_container_has_no_filter_either() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let id = start_sleeper(vessel_in(dir.path()), &["--privileged"]);
    let out = vessel(
        dir.path(),
        &["exec", &id, "--", "grep", "Seccomp:", "/proc/self/status"],
    );
    assert_eq!(
        text(&out.stdout).split_whitespace().nth(1),
        Some("0"),
        "{}",
        text(&out.stderr)
    );
    kill_and_wait(vessel_in(dir.path()), dir.path(), &id);
}
