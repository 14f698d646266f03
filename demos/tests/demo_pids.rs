//! The pids lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_pids_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-pids"),
        &[
            // The caller's own cgroup differs from machine to machine.
            (
                r"/sys/fs/cgroup/([a-z_,]+)(/\S*)?/vessel/",
                "/sys/fs/cgroup/$1/[OWN]/vessel/",
            ),
            (r"demo-pids-\d+", "demo-pids-[PID]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-pids", transcript));
}
