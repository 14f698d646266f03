//! The PID 1 lesson's transcript: a shell as PID 1 ignores SIGTERM, an exec-form program
//! handles it, and vessel-init forwards it and reaps an orphaned zombie.

mod common;

#[test]
fn demo_pid1_signals_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(env!("CARGO_BIN_EXE_demo-pid1-signals"), &[]);
    common::settings().bind(|| insta::assert_snapshot!("demo-pid1-signals", transcript));
}
