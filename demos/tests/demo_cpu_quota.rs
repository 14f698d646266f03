//! The CPU quota lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_cpu_quota_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-cpu-quota"),
        &[
            // The caller's own cgroup differs from machine to machine.
            (
                r"/sys/fs/cgroup/([a-z_,]+)(/\S*)?/vessel/",
                "/sys/fs/cgroup/$1/[OWN]/vessel/",
            ),
            (r"demo-cpu-quota-\d+", "demo-cpu-quota-[PID]"),
            // The measured share and the counters vary around their targets.
            (r"= \d+\.\d% of one CPU", "= [SHARE]% of one CPU"),
            (r"nr_throttled = \d+ → \d+", "nr_throttled = [N] → [N]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-cpu-quota", transcript));
}
