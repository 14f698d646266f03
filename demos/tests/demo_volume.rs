//! The volume lesson's transcript: a bind mount seen inside, absent from the host, written through.

mod common;

#[test]
fn demo_volume_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-volume"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-volume", transcript));
}
