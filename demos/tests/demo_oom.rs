//! The OOM lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_oom_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-oom"),
        &[
            // The caller's own cgroup differs from machine to machine.
            (
                r"/sys/fs/cgroup/([a-z_,]+)(/\S*)?/vessel/",
                "/sys/fs/cgroup/$1/[OWN]/vessel/",
            ),
            (r"demo-oom-\d+", "demo-oom-[PID]"),
            // How far the toucher got before the kill, and the exact peak, vary a little.
            (r"touched \d+ MiB", "touched [N] MiB"),
            (
                r"(memory\.max_usage_in_bytes|memory\.peak) = \d+",
                "$1 = [BYTES]",
            ),
            (r"(failcnt|events: max) = \d+", "$1 = [N]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-oom", transcript));
}
