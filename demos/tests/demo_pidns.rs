//! The PID namespace lesson's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_pidns_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-pidns"),
        &[
            (r"/proc/\d+/status", "/proc/[PID]/status"),
            (
                r"NSpid \(host, then container\) = \d+ ",
                "NSpid (host, then container) = [PID] ",
            ),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-pidns", transcript));
}
