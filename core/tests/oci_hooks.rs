//! OCI bundles' lifecycle hooks, run by `vessel run --bundle` at the runtime spec's
//! points with the container's state on stdin.

use std::path::Path;
use std::process::{Command, Output};

fn vessel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .expect("run vessel")
}

/// A hook script that appends its point's name to `order` and saves its stdin (the
/// state) as `POINT.json`; `fail` makes it exit 3.
fn hook(dir: &Path, point: &str, fail: bool) -> String {
    let script = dir.join(format!("{point}.sh"));
    let out = dir.display();
    let exit = if fail { "exit 3" } else { "exit 0" };
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho {point} >> {out}/order\ncat > {out}/{point}.json\n{exit}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    format!(
        r#"[{{"path": "/bin/sh", "args": ["sh", {:?}], "env": ["PATH=/usr/bin:/bin"], "timeout": 10}}]"#,
        script.display()
    )
}

/// A bundle on the default rootfs whose process prints "ran", with `hooks` as given.
fn bundle_with_hooks(dir: &Path, hooks: &str) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let config = format!(
        r#"{{"ociVersion": "1.0.2",
            "root": {{"path": {rootfs:?}}},
            "process": {{"user": {{"uid": 0, "gid": 0}}, "args": ["/bin/echo", "ran"], "cwd": "/",
                         "env": ["PATH=/bin:/usr/bin"]}},
            "hooks": {hooks},
            "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}]}}}}"#
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

// ANCHOR: hooks_order
#[test]
fn hooks_run_in_the_spec_order_with_the_state_on_stdin() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hooks = format!(
        r#"{{"prestart": {}, "createRuntime": {}, "poststart": {}, "poststop": {}}}"#,
        hook(d, "prestart", false),
        hook(d, "createRuntime", false),
        hook(d, "poststart", false),
        hook(d, "poststop", false),
    );
    bundle_with_hooks(d, &hooks);
    let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "hooked"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    assert_eq!(
        read(&d.join("order")),
        "prestart\ncreateRuntime\npoststart\npoststop\n"
    );
    let state: serde_json::Value =
        serde_json::from_str(&read(&d.join("createRuntime.json"))).unwrap();
    assert_eq!(state["id"], "hooked");
    assert_eq!(state["status"], "creating");
    assert_eq!(state["bundle"], d.to_str().unwrap());
    assert!(state["pid"].as_i64().is_some_and(|pid| pid > 1), "{state}");
    let poststop: serde_json::Value =
        serde_json::from_str(&read(&d.join("poststop.json"))).unwrap();
    assert_eq!(poststop["status"], "stopped");
}
// ANCHOR_END: hooks_order

#[test]
fn a_failing_create_runtime_hook_stops_the_container_before_its_command() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hooks = format!(
        r#"{{"createRuntime": {}, "poststart": {}, "poststop": {}}}"#,
        hook(d, "createRuntime", true),
        hook(d, "poststart", false),
        hook(d, "poststop", false),
    );
    bundle_with_hooks(d, &hooks);
    let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "refused"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("createRuntime hook /bin/sh"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "the command ran");
    assert_eq!(read(&d.join("order")), "createRuntime\npoststop\n");
}

#[test]
fn hooks_inside_the_container_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bundle_with_hooks(d, r#"{"startContainer": [{"path": "/bin/true"}]}"#);
    let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "inside"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("hooks.startContainer"), "{stderr}");
}
