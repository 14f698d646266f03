//! The seccomp lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_seccomp_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-seccomp"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-seccomp", transcript));
}
