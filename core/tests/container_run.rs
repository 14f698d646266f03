//! Running real containers through the library: what the child sees, from a
//! multi-threaded caller (libtest runs these on threads).

use std::os::unix::fs::PermissionsExt;

use vessel::test_support::host_mounts;
use vessel::{ContainerSpec, ExitStatus, Namespace, Namespaces, Output, rootfs};

fn run(spec: &ContainerSpec) -> Output {
    vessel::output(spec).expect("container runs")
}

fn sh(script: &str) -> ContainerSpec {
    ContainerSpec::new(
        rootfs::default_rootfs().expect("default rootfs"),
        ["/bin/sh", "-c", script],
    )
}

#[test]
fn the_first_process_is_pid_1_and_sees_only_its_own_processes() {
    vessel::require_root!();
    // The glob is expanded by the shell itself: no other process exists while it runs.
    let out = run(&sh("echo $$; echo /proc/[0-9]*"));
    assert_eq!(out.stdout, "1\n/proc/1\n", "stderr: {}", out.stderr);
}

#[test]
fn hostname_is_set_inside_and_unchanged_outside() {
    vessel::require_root!();
    let before = nix::unistd::gethostname().unwrap();
    let out = run(&sh("hostname").hostname("inner-box"));
    assert_eq!(out.stdout, "inner-box\n");
    assert_eq!(nix::unistd::gethostname().unwrap(), before);
}

#[test]
fn exit_codes_and_signals_pass_through() {
    vessel::require_root!();
    assert_eq!(run(&sh("exit 3")).status, ExitStatus::Exited(3));
    // PID 1 ignores signals it has no handler for, so a child of it is killed instead.
    let killed = run(&sh("sh -c 'kill -9 $$'; echo $?"));
    assert_eq!(killed.stdout, "137\n");
}

#[test]
fn env_and_working_directory_reach_the_command() {
    vessel::require_root!();
    let out = run(&sh("echo $GREETING; pwd").env("GREETING=hi").cwd("/tmp"));
    assert_eq!(out.stdout, "hi\n/tmp\n");
}

#[test]
fn dev_holds_only_the_minimal_device_set() {
    vessel::require_root!();
    let out = run(&sh(
        "echo $(ls /dev); stat -c '%a %t,%T' /dev/null /dev/tty",
    ));
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next().unwrap().trim(),
        "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"
    );
    assert_eq!(lines.next(), Some("666 1,3"));
    assert_eq!(lines.next(), Some("666 5,0"));
}

#[test]
fn the_mount_table_inside_holds_only_the_container() {
    vessel::require_root!();
    let out = run(&sh("cut -d' ' -f5,9 /proc/self/mountinfo"));
    let mounts: Vec<&str> = out.stdout.lines().collect();
    // The rootfs's own filesystem type is the host's, whatever that is.
    let after_root: Vec<&str> = mounts.iter().skip(1).take(5).copied().collect();
    assert!(mounts[0].starts_with("/ "), "{mounts:?}");
    assert_eq!(
        after_root,
        [
            "/proc proc",
            "/dev tmpfs",
            "/dev/pts devpts",
            "/dev/shm tmpfs",
            "/sys sysfs"
        ]
    );
    // The rest are docker's read-only and masked paths, over /proc and /sys only.
    let hardening: Vec<String> = vessel::security::default_readonly_paths()
        .into_iter()
        .chain(vessel::security::default_masked_paths())
        .map(|p| p.display().to_string())
        .collect();
    for extra in &mounts[6..] {
        let path = extra.split(' ').next().unwrap();
        assert!(
            hardening.iter().any(|h| h == path),
            "{extra:?} in {mounts:?}"
        );
    }
}

#[test]
fn sys_is_read_only() {
    vessel::require_root!();
    let out = run(&sh(
        "echo 1 > /sys/kernel/mm/ksm/run && echo wrote || echo refused",
    ));
    assert_eq!(out.stdout, "refused\n");
}

#[test]
fn no_container_mount_reaches_the_host() {
    vessel::require_root!();
    let before = host_mounts();
    // Mounting needs CAP_SYS_ADMIN, which a container only has when asked for.
    let spec = sh("mount -t tmpfs tmpfs /mnt && echo mounted")
        .add_capabilities(vessel::security::capabilities::CapSet::of(&["SYS_ADMIN"]));
    let out = run(&spec);
    assert_eq!(out.stdout, "mounted\n");
    assert_eq!(host_mounts(), before);
}

#[test]
fn every_selected_namespace_is_new_and_the_others_are_shared() {
    vessel::require_root!();
    let namespaces = Namespaces::container_default().with(Namespace::Cgroup);
    let list = "mnt uts ipc pid net cgroup";
    let out = run(&sh(&format!(
        "for n in {list}; do readlink /proc/self/ns/$n; done"
    ))
    .namespaces(namespaces));
    for (line, name) in out.stdout.lines().zip(list.split(' ')) {
        let ns = Namespace::from_name(name).unwrap();
        let host = std::fs::read_link(format!("/proc/self/ns/{name}")).unwrap();
        let host = host.to_str().unwrap();
        assert_eq!(
            line != host,
            namespaces.contains(ns),
            "{name}: inside {line}, host {host}"
        );
    }
}

#[test]
fn many_threads_can_start_containers_at_once() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let spec = ContainerSpec::new(rootfs.clone(), ["/bin/sh", "-c", &format!("echo {i}")]);
            std::thread::spawn(move || vessel::output(&spec).unwrap().stdout)
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.join().unwrap(), format!("{i}\n"));
    }
}

#[test]
fn dropping_a_running_container_kills_and_reaps_it() {
    vessel::require_root!();
    let running = vessel::Container::spawn(&sh("sleep 1000")).unwrap();
    let pid = running.pid();
    drop(running);
    // Reaped: the pid no longer exists as our child (no zombie left behind).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
    assert!(status.is_err(), "pid {pid} still exists: {status:?}");
}

#[test]
fn tmp_in_the_default_rootfs_is_sticky_and_world_writable() {
    let dir = rootfs::default_rootfs().expect("default rootfs");
    let mode = std::fs::metadata(dir.join("tmp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o1777);
}

#[test]
fn a_traced_start_names_every_stage_from_plan_to_exec() {
    vessel::require_root!();
    let mut running = vessel::Container::spawn(&sh("true").trace_start(true)).unwrap();
    let trace = running
        .start_trace()
        .expect("a trace was asked for")
        .clone();
    running.wait().unwrap();
    let names: Vec<&str> = trace.stages.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "plan the child's steps",
        "clone3",
        "send go",
        "make / private (mount MS_REC|MS_PRIVATE)",
        "mount proc on …/proc",
        "mknod /dev nodes",
        "pivot_root(…/default-v1)",
        "detach old root (umount2 MNT_DETACH)",
        "execve(…/sh)",
    ] {
        assert!(
            names.contains(&expected),
            "{expected:?} missing from {names:#?}"
        );
    }
    assert!(trace.total() > std::time::Duration::ZERO);
    // The child makes its root before it waits for the parent's go (and so while the
    // parent is at its own stages).
    let began = |name: &str| {
        let stage = trace.stages.iter().find(|s| s.name.starts_with(name));
        stage
            .unwrap_or_else(|| panic!("{name}: {:#?}", trace.stages))
            .began
    };
    assert!(
        began("pivot_root(") < began("wait for the parent's set-up"),
        "{:#?}",
        trace.stages
    );
}

#[test]
fn an_untraced_start_records_nothing() {
    vessel::require_root!();
    let mut running = vessel::Container::spawn(&sh("true")).unwrap();
    assert!(running.start_trace().is_none());
    running.wait().unwrap();
}

/// A host without a static busybox gets a rootfs made of its own binaries and their
/// libraries: the lessons must work on it too (`ps` included, for demo-pidns).
#[test]
fn a_rootfs_built_from_host_binaries_runs_the_lessons_commands() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    rootfs::build_from(&root, &rootfs::Source::HostBinaries).expect("build from host binaries");
    let spec = ContainerSpec::new(&root, ["sh", "-c", "echo $$; hostname; ps -o pid,comm"])
        .hostname("from-host");
    let out = run(&spec);
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "stdout: {} stderr: {}",
        out.stdout,
        out.stderr
    );
    assert_eq!(lines[0], ["1"]);
    assert_eq!(lines[1], ["from-host"]);
    assert_eq!(lines[2], ["PID", "COMMAND"]);
    assert_eq!(lines[3], ["1", "sh"]);
    assert_eq!(lines[4][1], "ps");
}
