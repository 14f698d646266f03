//! The overlay lesson's transcript: whiteouts, opaque directories and copy-up, claim by claim.

mod common;

#[test]
fn demo_overlay_whiteout_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-overlay-whiteout"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-overlay-whiteout", transcript));
}
