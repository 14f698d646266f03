//! The readiness check's transcript, checked claim by claim and kept as the book's output.

mod common;

#[test]
fn demo_check_transcript() {
    vessel::require_root!();
    let transcript = common::transcript(
        env!("CARGO_BIN_EXE_demo-check"),
        &[
            (r"kernel release = \S+", "kernel release = [KERNEL]"),
            (r"cgroup mode = .*", "cgroup mode = [CGROUP MODE]"),
            (
                r"user\.max_user_namespaces = \d+",
                "user.max_user_namespaces = [N]",
            ),
            (r"source = .*", "source = [ROOTFS SOURCE]"),
        ],
    );
    common::settings().bind(|| insta::assert_snapshot!("demo-check", transcript));
}
