//! The more-controllers lesson's transcript (freezer, devices, io weight, hugetlb), checked
//! claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_more_controllers_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-more-controllers"),
        &[
            // The caller's own cgroup differs from machine to machine.
            (
                r"/sys/fs/cgroup/([a-z_,]+)(/\S*)?/vessel/",
                "/sys/fs/cgroup/$1/[OWN]/vessel/",
            ),
            (r"(demo-more-controllers-[a-z]+)-\d+", "$1-[PID]"),
            // CPU time in a window depends on the machine's load; a frozen loop's 0 does
            // not, and stays visible.
            (r"(ms on a CPU, (running|thawed)) = \d+", "$1 = [N]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-more-controllers", transcript));
}
