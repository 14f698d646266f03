//! The OCI lifecycle lesson's transcript: create (the init waits), start, kill, delete,
//! each state read back.

mod common;

#[test]
fn demo_oci_lifecycle_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-oci-lifecycle"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-oci-lifecycle", transcript));
}
