//! Shared helpers of the privileged cgroup tests: a container spec with a cgroup of a
//! name unique to the test, and the check that its directories are gone afterwards.

#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::PathBuf;

use vessel::cgroups::{CgroupSpec, DEFAULT_PARENT, Layout, Resources};
use vessel::test_support::{BOUND, readable_before};
use vessel::{ContainerSpec, rootfs};

/// A cgroup name no other test (or test run) uses.
pub fn unique(test: &str) -> String {
    format!("test-{}-{test}", std::process::id())
}

/// `/bin/sh -c script` in the default rootfs, in cgroup `name` with `resources`. The
/// tests read its counters, so it asks for them: on a hybrid host that keeps even a
/// cgroup without limits in the controllers' (v1) hierarchies, which these tests are
/// about (`cgroups_unified` tests the unified-only cgroup of a container that needs no
/// controller).
pub fn sh_limited(name: &str, script: &str, resources: Resources) -> ContainerSpec {
    ContainerSpec::new(
        rootfs::default_rootfs().expect("default rootfs"),
        ["/bin/sh", "-c", script],
    )
    .cgroup(CgroupSpec::new(name, resources).counting())
}

/// Where the cgroup `name` would be in every hierarchy (vessel's default place).
pub fn would_be_dirs(name: &str) -> Vec<PathBuf> {
    match Layout::of_this_process().expect("cgroup layout") {
        Layout::V1(hierarchies) => hierarchies
            .iter()
            .map(|h| h.own.join(DEFAULT_PARENT).join(name))
            .collect(),
        Layout::V2 { own, .. } => vec![own.join(DEFAULT_PARENT).join(name)],
    }
}

/// The directories [`sh_limited`] gives cgroup `name` without limits: those of the
/// hierarchies its counters need, plus `devices` and `freezer`.
pub fn used_dirs(name: &str) -> Vec<PathBuf> {
    let spec = CgroupSpec::new(name, Resources::default()).counting();
    spec.dirs_in(&spec.layout().expect("cgroup layout"))
}

/// Panics if any directory of cgroup `name` is left.
pub fn assert_no_cgroup_left(name: &str) {
    let left: Vec<_> = would_be_dirs(name)
        .into_iter()
        .filter(|d| d.exists())
        .collect();
    assert!(left.is_empty(), "cgroup directories left behind: {left:?}");
}

/// Reads lines from `reader` until one equals `line` (the container says it is ready),
/// each within [`BOUND`]: a container that never says it fails the test.
pub fn wait_for_line(reader: &mut BufReader<std::fs::File>, line: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let deadline = std::time::Instant::now() + BOUND;
        let ready = reader.buffer().contains(&b'\n')
            || readable_before(reader.get_ref().as_fd(), deadline).expect("poll the pipe");
        assert!(
            ready,
            "no line within {BOUND:?} waiting for {line:?}; got {seen:?}"
        );
        let mut buf = String::new();
        let n = reader
            .read_line(&mut buf)
            .expect("read the container's stdout");
        assert!(
            n > 0,
            "the container ended before printing {line:?}; it printed {seen:?}"
        );
        if buf.trim_end() == line {
            return seen;
        }
        seen.push(buf.trim_end().to_owned());
    }
}

/// The `State:` line of `/proc/PID/status` (`R`, `S`, `D` for a v1-frozen task, …).
pub fn state(pid: impl std::fmt::Display) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("State:"))
        .unwrap()
        .to_owned()
}
