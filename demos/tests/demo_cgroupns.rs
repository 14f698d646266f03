//! The cgroup namespace lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_cgroupns_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-cgroupns"),
        &[
            (r"/proc/\d+/", "/proc/[PID]/"),
            (r"demo-cgroupns-\d+", "demo-cgroupns-[PID]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-cgroupns", transcript));
}
