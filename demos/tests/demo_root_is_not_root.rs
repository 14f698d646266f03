//! The root-is-not-root lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_root_is_not_root_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-root-is-not-root"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-root-is-not-root", transcript));
}
