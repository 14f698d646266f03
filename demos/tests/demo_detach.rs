//! The detach lesson's transcript: the shim and the container from the host, the log,
//! stop by SIGTERM, rm, and nothing left.

mod common;

#[test]
fn demo_detach_transcript() {
    vessel::require_root!();
    // The log's timestamps change from run to run.
    let times = [(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "[TIMESTAMP]")];
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-detach"), &times);
    common::settings().bind(|| insta::assert_snapshot!("demo-detach", transcript));
}
