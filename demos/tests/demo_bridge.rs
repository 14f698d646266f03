//! The bridge lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_bridge_transcript() {
    vessel::require_root!();
    vessel::test_support::require_tools();
    // MAC addresses are random per veth.
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-bridge"),
        &[(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b", "[MAC]")],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-bridge", transcript));
}
