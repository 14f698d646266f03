//! The veth lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_veth_transcript() {
    vessel::require_root!();
    vessel::test_support::require_tools();
    // Interface indexes depend on what the kernel handed out before.
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-veth"), &[(r"@if\d+", "@ifN")]);
    common::settings().bind(|| insta::assert_snapshot!("demo-veth", transcript));
}
