//! The chroot-vs-pivot_root lesson's transcript, checked claim by claim and kept as the
//! book's output.

mod common;

#[test]
fn demo_chroot_vs_pivot_root_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-chroot-vs-pivot-root"),
        &[(r"host secret \d+", "host secret [PID]")],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-chroot-vs-pivot-root", transcript));
}
