//! The commit lesson's transcript: a container's changes become a layer; the init layer stays out.

mod common;

#[test]
fn demo_commit_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-commit"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-commit", transcript));
}
