//! `vessel run` and the device cgroup: with no flags container root can make a node but
//! not open it; `--device` gives exactly the device named; `--privileged` opens all; a
//! bad `--device` is vessel's own error (125) and creates nothing.

mod cli_support;

use std::path::Path;

use cli_support::{text, vessel};

/// Opens `$1` for writing (write-only: /dev/kmsg then needs no CAP_SYSLOG, so
/// only the device cgroup can refuse it); prints `opened` or the error's text.
const PROBE: &str =
    r#"probe() { if err=$( (exec 3>"$1") 2>&1 ); then echo opened; else echo "${err##*: }"; fi; }"#;

/// A host device that is not on docker's list and opens harmlessly as root.
fn a_host_device() -> (&'static str, u32, u32) {
    [
        ("/dev/loop-control", 10, 237),
        ("/dev/kvm", 10, 232),
        ("/dev/fuse", 10, 229),
    ]
    .into_iter()
    .find(|(path, ..)| Path::new(path).exists())
    .expect("this host has none of /dev/loop-control, /dev/kvm, /dev/fuse")
}

fn mknod() -> &'static str {
    ["/usr/bin/mknod", "/bin/mknod"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("no mknod on this host")
}

/// `vessel run OPTIONS -- sh -c SCRIPT` with the host's mknod at /dev/mknod; stdout.
fn run(run_dir: &Path, options: &[&str], script: &str) -> String {
    let volume = format!("{}:/dev/mknod:ro", mknod());
    // The image's own mknod (busybox has one), else the host's bound at /dev/mknod.
    let script = format!("{PROBE}\nMKNOD=$(command -v mknod || echo /dev/mknod)\n{script}");
    let mut args = vec!["run", "--rm", "-v", &volume];
    args.extend_from_slice(options);
    args.extend_from_slice(&["--", "sh", "-c", &script]);
    let out = vessel(run_dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn without_flags_a_made_node_does_not_open_and_privileged_opens_it() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (_, major, minor) = a_host_device();
    let script = format!("$MKNOD /dev/made c {major} {minor} && probe /dev/made");
    assert_eq!(run(tmp.path(), &[], &script), "Operation not permitted\n");
    assert_eq!(run(tmp.path(), &["--privileged"], &script), "opened\n");
}

#[test]
fn device_gives_exactly_the_device_named() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (host, major, minor) = a_host_device();
    let given = format!("{host}:/dev/given");
    // The node appears with the host's numbers and opens. Another device given with
    // "m" only (kmsg, which every host has) appears but does not open, and neither does
    // a node of it made by hand: rules are about device numbers, not paths.
    let mknod_only = "/dev/kmsg:/dev/sub/made:m";
    let script = "stat -c '%t:%T' /dev/given; probe /dev/given; probe /dev/sub/made; \
         $MKNOD /dev/by-hand c 1 11 && probe /dev/by-hand";
    let out = run(
        tmp.path(),
        &["--device", &given, "--device", mknod_only],
        script,
    );
    assert_eq!(
        out,
        format!("{major:x}:{minor:x}\nopened\nOperation not permitted\nOperation not permitted\n")
    );
}

#[test]
fn a_bad_device_is_refused_before_anything_exists() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    // A plain file that exists on every host (the VM has no /etc/hostname).
    let plain = tempfile::NamedTempFile::new().unwrap();
    let plain = plain.path().to_str().unwrap();
    for (value, reason) in [
        ("/dev/no-such-device", "No such file or directory"),
        (plain, "is not a character or block device"),
        (
            "/dev/null:/dev/null:rwx",
            "use a combination of r (read), w (write) and m (mknod)",
        ),
        ("/dev/null:/etc/null", "must be a path below /dev"),
    ] {
        let out = vessel(tmp.path(), &["run", "--device", value, "--", "true"]);
        assert_eq!(out.status.code(), Some(125), "{value}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!("vessel: --device {value}: ")),
            "{stderr}"
        );
        assert!(stderr.contains(reason), "{stderr}");
    }
    let records: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(records.is_empty(), "{records:?}");
}

#[test]
fn a_bundle_s_device_rules_and_nodes_are_applied() {
    vessel::require_root!();
    let (host, major, minor) = a_host_device();
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let script = format!("{PROBE}\nprobe /dev/given; probe /dev/kvm-node; probe /dev/null");
    let args = ["/bin/sh", "-c", &script];
    // Deny all, allow the given device; the kvm node is made but has no rule. The
    // process keeps every capability (no process.capabilities): only the cgroup refuses.
    let config = format!(
        r#"{{"ociVersion": "1.0.2",
            "root": {{"path": {rootfs:?}}},
            "process": {{"user": {{"uid": 0, "gid": 0}}, "args": {args:?}, "cwd": "/",
                         "env": ["PATH=/bin:/usr/bin"]}},
            "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}],
                       "devices": [
                         {{"path": "/dev/given", "type": "c", "major": {major}, "minor": {minor}}},
                         {{"path": "/dev/kvm-node", "type": "c", "major": 10, "minor": 232}}],
                       "resources": {{"devices": [
                         {{"allow": false, "access": "rwm"}},
                         {{"allow": true, "type": "c", "major": {major}, "minor": {minor}, "access": "rw"}}]}}}}}}"#
    );
    let bundle = tempfile::tempdir().unwrap();
    std::fs::write(bundle.path().join("config.json"), config).unwrap();
    let run_dir = tempfile::tempdir().unwrap();
    let out = vessel(
        run_dir.path(),
        &[
            "run",
            "--bundle",
            bundle.path().to_str().unwrap(),
            "devices",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let kvm_expected = if host == "/dev/kvm" {
        "opened"
    } else {
        "Operation not permitted"
    };
    assert_eq!(
        text(&out.stdout),
        format!("opened\n{kvm_expected}\nopened\n"),
        "given {host}"
    );
}
