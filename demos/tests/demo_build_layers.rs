//! The build lesson's transcript: one layer per file-changing instruction, the cache,
//! whiteouts, and the overlay stack limit measured on this kernel.

mod common;

#[test]
fn demo_build_layers_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-build-layers"),
        // Layer digests change with file times: their 12-digit short form is already an
        // [ID]; RFC 3339 times in the history are not shown.
        &[],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-build-layers", transcript));
}
