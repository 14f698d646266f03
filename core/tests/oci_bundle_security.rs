//! An OCI bundle's hardening fields, end to end through `vessel run --bundle`: each one
//! the config sets is in force inside the container, and one vessel cannot honour stops
//! the run with exit 125, naming the field.

use std::path::Path;
use std::process::{Command, Output};

fn run_bundle(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(["run", "--bundle"])
        .arg(dir)
        .arg(format!("oci-sec-{}", std::process::id()))
        .output()
        .expect("run vessel")
}

/// A bundle on the default rootfs running `script` with `process` and `linux` fields
/// added and `root` extra fields.
fn bundle(dir: &Path, script: &str, process: &str, linux: &str, root: &str) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let config = format!(
        r#"{{"ociVersion": "1.0.2",
            "root": {{"path": {rootfs:?}{root}}},
            "process": {{"user": {{"uid": 0, "gid": 0}}, "args": ["/bin/sh", "-c", {script:?}],
                         "cwd": "/", "env": ["PATH=/bin:/usr/bin"]{process}}},
            "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "ipc"}}]{linux}}}}}"#
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
}

const REPORT: &str = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; ulimit -n; \
    (echo x > /written) 2>/dev/null && echo root-writable || echo root-readonly; \
    echo kcore=$(cat /proc/kcore | wc -c); cat /proc/sys/kernel/msgmax";

#[test]
fn a_bundle_s_hardening_fields_are_in_force() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    bundle(
        dir.path(),
        REPORT,
        r#", "noNewPrivileges": true, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 321}]"#,
        r#", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
            "sysctl": {"kernel.msgmax": "12345"},
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}"#,
        r#", "readonly": true"#,
    );
    let out = run_bundle(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
    };
    assert_eq!(field("NoNewPrivs:"), "1", "process.noNewPrivileges");
    assert_eq!(field("Seccomp:"), "2", "linux.seccomp");
    assert!(lines.contains(&"321"), "process.rlimits: {stdout}");
    assert!(lines.contains(&"root-readonly"), "root.readonly: {stdout}");
    assert_eq!(field("kcore="), "0", "linux.maskedPaths");
    assert!(lines.contains(&"12345"), "linux.sysctl: {stdout}");
}

#[test]
fn absent_fields_mean_off_as_in_runc() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    bundle(
        dir.path(),
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
        "",
        "",
        "",
    );
    let out = run_bundle(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("NoNewPrivs:\t0"), "{stdout}");
    assert!(stdout.contains("Seccomp:\t0"), "{stdout}");
}

#[test]
fn a_field_vessel_cannot_honour_exits_125_naming_it() {
    vessel::require_root!();
    for (process, linux, field) in [
        (
            "",
            r#", "sysctl": {"kernel.core_pattern": "|/tmp/x"}"#,
            "linux.sysctl[kernel.core_pattern]",
        ),
        // (`process.oomScoreAdj` was refused here until the OCI issue made vessel apply it.)
        ("", r#", "intelRdt": {"closID": "x"}"#, "linux.intelRdt"),
        (
            "",
            r#", "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/a.sock"}"#,
            "linux.seccomp.listenerPath",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        bundle(dir.path(), "echo ran", process, linux, "");
        let out = run_bundle(dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{field}: {stderr}");
        assert!(stderr.contains(field), "{field}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    }
}
