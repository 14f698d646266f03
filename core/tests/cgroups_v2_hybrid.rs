//! The cgroup v2 manager against the real kernel, wherever a v2 hierarchy exists. On a
//! *hybrid* host the v2 hierarchy (`/sys/fs/cgroup/unified`) has no controllers, but the
//! core of v2 — directories, `cgroup.procs`, `cgroup.events`, `cgroup.freeze`,
//! `cgroup.kill`, `cpu.stat` — works there, so the v2 code paths for placement, attach,
//! freeze, kill and removal run for real even where the limits must live in v1. On a
//! pure v2 host the same tests run on the unified hierarchy. Only a pure v1 host has
//! nothing to test: there they skip with the reason, or fail under
//! `VESSEL_REQUIRE_PRIVILEGED=1`, so no run can pass them without checking anything.

mod cgroups_support;

use std::process::{Child, Command};

use cgroups_support::state;
use vessel::cgroups::{Cgroup, CgroupSpec, Layout, Resources, Version, detect};
use vessel::test_support::REQUIRE_PRIVILEGED;

/// The v2 hierarchy's layout: the unified one of a hybrid host, or the whole tree of a
/// pure v2 host. `None` (after saying why) on a pure v1 host, which has none.
fn v2_layout() -> Option<Layout> {
    let version = detect(std::path::Path::new("/sys/fs/cgroup")).unwrap();
    if version == Version::V1 {
        let why = "this host is pure cgroup v1: it has no v2 hierarchy to run the v2 manager on";
        if std::env::var(REQUIRE_PRIVILEGED).as_deref() == Ok("1") {
            panic!("{why}; {REQUIRE_PRIVILEGED}=1 forbids skipping");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    Some(Layout::from_texts(Version::V2, &mountinfo, &proc_cgroup).unwrap())
}

fn sleeper() -> Child {
    Command::new("sleep").arg("1000").spawn().unwrap()
}

fn v2_line(pid: u32) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    text.lines()
        .find(|l| l.starts_with("0::"))
        .unwrap()
        .to_owned()
}

#[test]
fn the_v2_manager_attaches_freezes_kills_and_removes_for_real() {
    vessel::require_root!();
    let Some(layout) = v2_layout() else {
        return;
    };
    let name = format!("test-{}-v2", std::process::id());
    let cgroup = Cgroup::create_in(&layout, &CgroupSpec::new(&name, Resources::default())).unwrap();
    let dir = cgroup.dirs()[0].clone();
    assert!(dir.ends_with(format!("vessel/{name}")), "{}", dir.display());
    assert!(matches!(
        cgroup.manager(),
        vessel::cgroups::CgroupManager::V2(_)
    ));

    let mut first = sleeper();
    let mut second = sleeper();
    cgroup.attach(first.id() as i32).unwrap();
    cgroup.attach(second.id() as i32).unwrap();
    assert!(
        v2_line(first.id()).ends_with(&format!("/vessel/{name}")),
        "{}",
        v2_line(first.id())
    );
    let events = std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert!(events.contains("populated 1"), "{events}");

    // cgroup.freeze, then cgroup.events says frozen (vessel waits for it with POLLPRI).
    cgroup.freeze().unwrap();
    let events = std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert!(events.contains("frozen 1"), "{events}");
    assert!(!state(first.id()).contains('R'), "{}", state(first.id()));
    cgroup.thaw().unwrap();
    let events = std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert!(events.contains("frozen 0"), "{events}");

    // The core's own CPU accounting is there without any controller.
    cgroup.stats().unwrap();

    // cgroup.kill: both die at once, and the cgroup is empty when kill_all returns.
    cgroup.kill_all().unwrap();
    let events = std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert!(events.contains("populated 0"), "{events}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(first.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert_eq!(second.wait().unwrap().signal(), Some(libc::SIGKILL));

    cgroup.remove().unwrap();
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn a_v2_cgroup_dropped_with_a_process_inside_kills_it_and_goes() {
    vessel::require_root!();
    let Some(layout) = v2_layout() else {
        return;
    };
    let name = format!("test-{}-v2drop", std::process::id());
    let cgroup = Cgroup::create_in(&layout, &CgroupSpec::new(&name, Resources::default())).unwrap();
    let dir = cgroup.dirs()[0].clone();
    let mut child = sleeper();
    cgroup.attach(child.id() as i32).unwrap();
    drop(cgroup);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn clone_into_cgroup_starts_the_child_inside() {
    use std::os::fd::{AsFd, AsRawFd};
    use vessel::process::clone::{Cloned, clone3_in};
    vessel::require_root!();
    let Some(layout) = v2_layout() else {
        return;
    };
    let name = format!("test-{}-v2clone", std::process::id());
    let cgroup = Cgroup::create_in(&layout, &CgroupSpec::new(&name, Resources::default())).unwrap();
    let dir = cgroup.dirs()[0].clone();
    let born_in = cgroup
        .clone_into_fd()
        .unwrap()
        .expect("v2 gives a directory");
    let (hold_read, hold_write) = nix::unistd::pipe().unwrap();
    let (read_fd, write_fd) = (hold_read.as_raw_fd(), hold_write.as_raw_fd());
    // SAFETY: the child below only calls close, read and _exit, all async-signal-safe,
    // on descriptors made before the clone.
    match unsafe { clone3_in(0, Some(born_in.as_fd())) }.unwrap() {
        Cloned::Child => {
            let mut byte = 0u8;
            // SAFETY: closing our copy of the write end makes the read see end-of-file
            // once the parent closes its own; `byte` is a live one-byte buffer.
            unsafe {
                libc::close(write_fd);
                libc::read(read_fd, (&raw mut byte).cast(), 1);
                libc::_exit(0)
            }
        }
        Cloned::Parent { pid, pidfd: _ } => {
            drop(hold_read);
            // No write to cgroup.procs happened: the kernel put the child there at birth.
            let line = v2_line(pid as u32);
            drop(hold_write);
            let mut status = 0;
            // SAFETY: `pid` is our own unreaped child; `status` is a live int.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(line.ends_with(&format!("/vessel/{name}")), "{line}");
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        }
    }
    drop(born_in);
    cgroup.remove().unwrap();
    assert!(!dir.exists(), "{} left", dir.display());
}
