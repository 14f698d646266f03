//! Helpers for vessel's own tests and demos: the privileged-test rule from `DESIGN.md`,
//! a container held open while a test or lesson looks at it from the host, and waits
//! with a bound (no test may hang).

mod bounded;
mod held;
mod netns;

pub use bounded::{BOUND, BoundedLines, output_within, read_within, readable_before, wait_within};
pub use held::HeldContainer;
pub use netns::{TestNetns, missing_tool, require_tools};

/// The environment variable that turns a privileged test's skip into a failure (set by
/// `.ci/run`, so CI can never go green by skipping).
pub const REQUIRE_PRIVILEGED: &str = "VESSEL_REQUIRE_PRIVILEGED";

/// Whether a test that needs root may run. When not root it prints why it skips, or
/// panics if [`REQUIRE_PRIVILEGED`] is `1`.
pub fn privileged(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let why = "needs root: it creates namespaces and mounts (run the tests as root)";
    if std::env::var(REQUIRE_PRIVILEGED).as_deref() == Ok("1") {
        panic!("{test} {why}; {REQUIRE_PRIVILEGED}=1 forbids skipping");
    }
    eprintln!("skipped {test}: {why}");
    false
}

/// Returns early from a test when it cannot run, following [`privileged`].
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::test_support::privileged(module_path!()) {
            return;
        }
    };
}

/// The host's mount table as lines of `/proc/self/mountinfo`, to check nothing leaked.
pub fn host_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("read /proc/self/mountinfo")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The host's mounts at or below `dir` (lines of `/proc/self/mountinfo`): what a
/// container on that rootfs could leak. Unlike [`host_mounts`], it does not change when
/// unrelated processes mount something elsewhere meanwhile.
pub fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    let dir = dir.to_string_lossy();
    host_mounts()
        .into_iter()
        .filter(|line| {
            line.split(' ')
                .nth(4)
                .is_some_and(|point| point.starts_with(dir.as_ref()))
        })
        .collect()
}
