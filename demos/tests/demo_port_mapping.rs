//! The port-mapping lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_port_mapping_transcript() {
    vessel::require_root!();
    vessel::test_support::require_tools();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-port-mapping"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-port-mapping", transcript));
}
