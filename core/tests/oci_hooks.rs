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

/// A hook that runs `script` with the container's busybox (or the host's) `sh`, given
/// the state on stdin and nothing of the runtime's environment.
fn inline(script: &str) -> serde_json::Value {
    serde_json::json!([{"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin"]}])
}

/// An executable `#!/bin/sh` script at `path`.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// A bundle whose process prints its mount namespace and its executable, with the
/// bundle directory bound at /tmp inside (where startContainer hooks write).
fn bundle_seeing_its_namespaces(dir: &Path, hooks: serde_json::Value) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": rootfs},
        "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "env": ["PATH=/bin:/usr/bin"],
                    "args": ["/bin/sh", "-c", "readlink /proc/self/ns/mnt; readlink /proc/self/exe"]},
        "mounts": [{"destination": "/tmp", "type": "bind", "source": dir, "options": ["rbind", "rw"]}],
        "hooks": hooks,
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
}

// ANCHOR: in_container_hooks
#[test]
fn create_container_and_start_container_hooks_run_inside_the_container_at_their_points() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    // createContainer: a path only the host's tree has (the bundle), seen from the
    // container's mount namespace with its rootfs mounted and not yet pivoted into.
    let create = d.join("create-container.sh");
    script(
        &create,
        &format!(
            "echo createContainer >> {d}/order\ncat > {d}/createContainer.json\n\
             readlink /proc/self/ns/mnt > {d}/createContainer.mnt\n\
             test -e {r}/proc/self/ns/mnt && echo mounted > {d}/createContainer.rootfs\n",
            d = d.display(),
            r = rootfs.display()
        ),
    );
    // startContainer: a path only the container's root has (the bundle bound at /tmp);
    // pid 1 is still the runtime's init, not the command.
    script(
        &d.join("start-container.sh"),
        "echo startContainer >> /tmp/order\ncat > /tmp/startContainer.json\n\
         readlink /proc/self/ns/mnt > /tmp/startContainer.mnt\nreadlink /proc/1/exe > /tmp/startContainer.exe\n",
    );
    let runtime_hook = |point: &str| inline(&format!("echo {point} >> {}/order", d.display()));
    bundle_seeing_its_namespaces(
        d,
        serde_json::json!({
            "prestart": runtime_hook("prestart"),
            "createRuntime": runtime_hook("createRuntime"),
            "createContainer": [{"path": create}],
            "startContainer": [{"path": "/tmp/start-container.sh"}],
            "poststart": runtime_hook("poststart"),
            "poststop": runtime_hook("poststop"),
        }),
    );
    let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "inside"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(&d.join("order")),
        "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n"
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (command_mnt, command_exe) = stdout.trim().split_once('\n').expect("two lines");
    let host_mnt = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_ne!(command_mnt, host_mnt.to_str().unwrap());
    assert_eq!(read(&d.join("createContainer.mnt")).trim(), command_mnt);
    assert_eq!(read(&d.join("startContainer.mnt")).trim(), command_mnt);
    assert_eq!(read(&d.join("createContainer.rootfs")), "mounted\n");
    assert_ne!(read(&d.join("startContainer.exe")).trim(), command_exe);
    for (point, status) in [
        ("createContainer", "creating"),
        ("startContainer", "created"),
    ] {
        let state: serde_json::Value =
            serde_json::from_str(&read(&d.join(format!("{point}.json")))).unwrap();
        assert_eq!(state["id"], "inside", "{point}");
        assert_eq!(state["status"], status, "{point}");
        assert_eq!(state["pid"], 1, "{point}: the pid as the container sees it");
        assert_eq!(state["bundle"], d.to_str().unwrap(), "{point}");
    }
}
// ANCHOR_END: in_container_hooks

#[test]
fn a_failing_hook_at_any_create_point_stops_the_container_before_its_command() {
    vessel::require_root!();
    for point in ["createRuntime", "createContainer", "startContainer"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Each writes where it can: the bundle from the host's view, /tmp inside.
        let log = if point == "startContainer" {
            "/tmp".into()
        } else {
            d.display().to_string()
        };
        bundle_seeing_its_namespaces(
            d,
            serde_json::json!({
                point: inline(&format!("echo {point} >> {log}/order; exit 3")),
                "poststop": inline(&format!("echo poststop >> {}/order", d.display())),
            }),
        );
        let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "refused"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{point}: {stderr}");
        assert!(
            stderr.contains(&format!("{point} hook")),
            "{point}: {stderr}"
        );
        assert!(stderr.contains("exited with code 3"), "{point}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "",
            "{point}: the command ran"
        );
        assert_eq!(read(&d.join("order")), format!("{point}\npoststop\n"));
    }
}

#[test]
fn a_container_hook_past_its_timeout_is_killed_and_fails_the_start() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bundle_seeing_its_namespaces(
        d,
        serde_json::json!({"createContainer": [{"path": "/bin/sh",
            "args": ["sh", "-c", "exec sleep 600"],
            "timeout": 1}]}),
    );
    let out = vessel(&["run", "--bundle", d.to_str().unwrap(), "slow"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("outlived its timeout and was killed (killed by signal 9 (SIGKILL))"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "the command ran");
}
