//! The OCI create/start split through the CLI, as podman and containerd drive it:
//! `create` returns with the init waiting (hardening already in force), `start` lets it
//! run, `state` follows each step from the kernel, `kill`/`delete` behave as runc's,
//! the hooks run at the spec's points, `pause`/`resume` freeze and thaw.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Oci {
    root: tempfile::TempDir,
    bundle: tempfile::TempDir,
}

impl Oci {
    /// A state root and a bundle on the default rootfs running `args`, with
    /// `vessel spec`'s hardened defaults and `extra` merged into config.json.
    fn new(args: &[&str], extra: serde_json::Value) -> Oci {
        let oci = Oci {
            root: tempfile::tempdir().unwrap(),
            bundle: tempfile::tempdir().unwrap(),
        };
        let out = oci.vessel(&["spec", "--bundle", oci.bundle.path().to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let path = oci.bundle.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
        config["root"] = serde_json::json!({"path": rootfs, "readonly": true});
        config["process"]["args"] = serde_json::json!(args);
        merge(&mut config, extra);
        std::fs::write(&path, config.to_string()).unwrap();
        oci
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vessel"));
        command.arg("--root").arg(self.root.path()).args(args);
        command
    }

    fn vessel(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.vessel(args);
        assert!(
            out.status.success(),
            "vessel {args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn bundle(&self) -> &Path {
        self.bundle.path()
    }

    /// `vessel create` with the container's stdout and stderr going to `out` (a file:
    /// the container keeps them open after create exits).
    fn create(&self, id: &str, out: &Path) -> Output {
        let file = std::fs::File::create(out).unwrap();
        self.command(&[
            "create",
            "--bundle",
            self.bundle().to_str().unwrap(),
            "--pid-file",
            self.bundle().join("pid").to_str().unwrap(),
            id,
        ])
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .map(|status| Output {
            status,
            stdout: Vec::new(),
            stderr: std::fs::read(out).unwrap_or_default(),
        })
        .unwrap()
    }

    fn state(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        for id in self.ok(&["list", "-q"]).lines() {
            let _ = self.vessel(&["delete", "--force", id]);
        }
    }
}

fn merge(into: &mut serde_json::Value, extra: serde_json::Value) {
    match (into, extra) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn status_line(pid: i64, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap()
}

/// Waits (10 s at most) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ANCHOR: create_waits_hardened
#[test]
fn created_init_waits_with_its_hardening_in_force_until_start() {
    vessel::require_root!();
    let oci = Oci::new(&["/bin/echo", "ran"], serde_json::json!({}));
    let out = oci.bundle().join("out");
    let created = oci.create("box", &out);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let state = oci.state("box");
    assert_eq!(state["status"], "created");
    assert_eq!(state["ociVersion"], "1.0.2");
    assert_eq!(state["bundle"], oci.bundle().to_str().unwrap());
    let pid = state["pid"].as_i64().unwrap();
    let pid_file = std::fs::read_to_string(oci.bundle().join("pid")).unwrap();
    assert_eq!(pid_file, pid.to_string(), "the pid file names the init");
    // Before start: the init runs nothing of the user's yet, and is already confined.
    assert_eq!(text(&std::fs::read(&out).unwrap()), "");
    assert_eq!(status_line(pid, "NoNewPrivs"), "1");
    assert_eq!(
        status_line(pid, "CapBnd"),
        "00000000a80425fb",
        "vessel spec's 14 caps"
    );
    let own = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_ne!(
        std::fs::read_link(format!("/proc/{pid}/ns/mnt")).unwrap(),
        own
    );
    assert!(Path::new(&format!("/proc/{pid}/root/bin/busybox")).exists());
    // A second start is refused; the first lets the command run.
    oci.ok(&["start", "box"]);
    wait_for("the command to end", || {
        oci.state("box")["status"] == "stopped"
    });
    assert_eq!(text(&std::fs::read(&out).unwrap()), "ran\n");
    let again = oci.vessel(&["start", "box"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("it is stopped"),
        "{}",
        text(&again.stderr)
    );
    oci.ok(&["delete", "box"]);
    let gone = oci.vessel(&["state", "box"]);
    assert!(!gone.status.success());
    assert!(text(&gone.stderr).contains("does not exist"));
}
// ANCHOR_END: create_waits_hardened

/// Until `start`, the created init is vessel's own binary running with the container's
/// capabilities. A process with the same uid and no capability the init lacks may open
/// `/proc/PID/exe` of a dumpable process: that is the host's `vessel` file, which a
/// container that keeps the descriptor can write once no vessel runs it (CVE-2019-5736).
/// The init is not dumpable, so only `CAP_SYS_PTRACE` opens it, which a default
/// container lacks. A root process with every capability but that one, and a default
/// container that sees the host's processes (`--pid host`), each try.
#[test]
fn the_waiting_init_does_not_hand_out_the_host_vessel_binary() {
    vessel::require_root!();
    let oci = Oci::new(&["/bin/true"], serde_json::json!({}));
    let out = oci.bundle().join("out");
    let created = oci.create("box", &out);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let pid = oci.state("box")["pid"].as_i64().unwrap();
    let exe = format!("/proc/{pid}/exe");
    let attacker = Command::new("setpriv")
        .args([
            "--bounding-set",
            "-sys_ptrace",
            "--",
            "head",
            "-c",
            "4",
            &exe,
        ])
        .output()
        .expect("setpriv (util-linux)");
    assert!(
        !attacker.status.success() && attacker.stdout.is_empty(),
        "a process without CAP_SYS_PTRACE read {exe} (the host's vessel binary): {:?}",
        text(&attacker.stdout)
    );
    assert!(
        text(&attacker.stderr).contains("Permission denied"),
        "{}",
        text(&attacker.stderr)
    );
    // And a real one: a default container that sees the host's processes (--pid host).
    let container = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args([
            "run", "--rm", "--pid", "host", "--", "head", "-c", "4", &exe,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !container.status.success() && container.stdout.is_empty(),
        "a --pid host container read {exe}: {:?}",
        text(&container.stdout)
    );
    assert!(
        text(&container.stderr).contains("Permission denied"),
        "{}",
        text(&container.stderr)
    );
    // The same process with CAP_SYS_PTRACE reads it: the refusal above is that flag's.
    let tracer = Command::new("head")
        .args(["-c", "4", &exe])
        .output()
        .unwrap();
    assert_eq!(tracer.stdout, b"\x7fELF", "{}", text(&tracer.stderr));
}

#[test]
fn delete_refuses_a_running_container_without_force() {
    vessel::require_root!();
    let oci = Oci::new(&["sleep", "1000"], serde_json::json!({}));
    let out = oci.bundle().join("out");
    assert!(oci.create("long", &out).status.success());
    oci.ok(&["start", "long"]);
    assert_eq!(oci.state("long")["status"], "running");
    let refused = oci.vessel(&["delete", "long"]);
    assert_eq!(refused.status.code(), Some(125));
    assert!(
        text(&refused.stderr).contains("it is running"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(oci.state("long")["status"], "running");
    // runc's argument order: kill ID SIGNAL.
    oci.ok(&["kill", "long", "KILL"]);
    wait_for("the init to die", || {
        oci.state("long")["status"] == "stopped"
    });
    oci.ok(&["delete", "long"]);
}

#[test]
fn a_created_container_can_be_killed_and_force_deleted() {
    vessel::require_root!();
    let oci = Oci::new(&["/bin/echo", "never"], serde_json::json!({}));
    let out = oci.bundle().join("out");
    assert!(oci.create("k", &out).status.success());
    let cgroups = cgroup_dirs(&oci, "k");
    assert!(
        !cgroups.is_empty(),
        "the device cgroup exists while created"
    );
    oci.ok(&["kill", "k", "KILL"]);
    wait_for("the waiting init to die", || {
        oci.state("k")["status"] == "stopped"
    });
    assert_eq!(
        text(&std::fs::read(&out).unwrap()),
        "",
        "the command never ran"
    );
    let started = oci.vessel(&["start", "k"]);
    assert!(!started.status.success());
    oci.ok(&["delete", "--force", "k"]);
    assert!(
        cgroups.iter().all(|d| !d.exists()),
        "delete removed {cgroups:?}"
    );
    oci.ok(&["delete", "--force", "k"]); // a missing one is no error with --force
}

fn cgroup_dirs(oci: &Oci, id: &str) -> Vec<PathBuf> {
    let oci_dir = vessel::state::paths::oci(oci.root.path());
    let dir = vessel::state::paths::oci_container(&oci_dir, &id.parse().unwrap());
    let record = vessel::state::paths::oci_state(&dir);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap();
    record["cgroup_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| PathBuf::from(d.as_str().unwrap()))
        .collect()
}

#[test]
fn hooks_run_at_create_start_and_delete_with_the_state() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let hook = |point: &str| {
        serde_json::json!([{"path": "/bin/sh", "args": ["sh", "-c",
            format!("echo {point} >> {0}/order; cat > {0}/{point}.json", dir.path().display())]}])
    };
    let oci = Oci::new(
        &["/bin/true"],
        serde_json::json!({"hooks": {"prestart": hook("prestart"), "createRuntime": hook("createRuntime"),
            "poststart": hook("poststart"), "poststop": hook("poststop")},
            "annotations": {"org.example/who": "test"}}),
    );
    let order = || std::fs::read_to_string(dir.path().join("order")).unwrap_or_default();
    assert!(oci.create("h", &oci.bundle().join("out")).status.success());
    assert_eq!(order(), "prestart\ncreateRuntime\n");
    oci.ok(&["start", "h"]);
    assert_eq!(order(), "prestart\ncreateRuntime\npoststart\n");
    wait_for("the command to end", || {
        oci.state("h")["status"] == "stopped"
    });
    oci.ok(&["delete", "h"]);
    assert_eq!(order(), "prestart\ncreateRuntime\npoststart\npoststop\n");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("poststart.json")).unwrap())
            .unwrap();
    assert_eq!(state["id"], "h");
    assert_eq!(state["status"], "running");
    assert_eq!(state["annotations"]["org.example/who"], "test");
}

#[test]
fn pause_freezes_and_resume_thaws() {
    vessel::require_root!();
    let oci = Oci::new(&["sleep", "1000"], serde_json::json!({}));
    assert!(oci.create("p", &oci.bundle().join("out")).status.success());
    oci.ok(&["start", "p"]);
    oci.ok(&["pause", "p"]);
    assert_eq!(oci.state("p")["status"], "paused");
    let frozen = || {
        cgroup_dirs(&oci, "p").iter().any(|d| {
            std::fs::read_to_string(d.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
                || std::fs::read_to_string(d.join("cgroup.events"))
                    .is_ok_and(|s| s.lines().any(|l| l == "frozen 1"))
        })
    };
    assert!(frozen(), "the container's cgroup is frozen");
    oci.ok(&["resume", "p"]);
    assert_eq!(oci.state("p")["status"], "running");
    assert!(!frozen(), "the container's cgroup is thawed");
    oci.ok(&["delete", "--force", "p"]);
}

#[test]
fn exec_process_json_joins_the_running_container() {
    vessel::require_root!();
    let oci = Oci::new(
        &["sleep", "1000"],
        serde_json::json!({"hostname": "inside"}),
    );
    assert!(oci.create("e", &oci.bundle().join("out")).status.success());
    oci.ok(&["start", "e"]);
    let process = oci.bundle().join("process.json");
    std::fs::write(
        &process,
        r#"{"args": ["/bin/sh", "-c", "hostname; grep NoNewPrivs /proc/self/status"], "cwd": "/",
            "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}, "noNewPrivileges": true}"#,
    )
    .unwrap();
    let out = oci.ok(&["exec", "--process", process.to_str().unwrap(), "e"]);
    assert_eq!(out, "inside\nNoNewPrivs:\t1\n");
    let out = oci.ok(&["exec", "e", "--", "echo", "args"]);
    assert_eq!(out, "args\n");
    oci.ok(&["delete", "--force", "e"]);
}

#[test]
fn systemd_cgroup_is_refused_and_errors_go_to_the_json_log() {
    let oci_root = tempfile::tempdir().unwrap();
    let log = oci_root.path().join("log.json");
    let out = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .arg("--root")
        .arg(oci_root.path())
        .args([
            "--log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
            "--systemd-cgroup",
            "state",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["level"], "error");
    assert!(
        line["msg"]
            .as_str()
            .unwrap()
            .starts_with("--systemd-cgroup"),
        "{line}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .arg("--root")
        .arg(oci_root.path())
        .args([
            "--log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
            "state",
            "missing",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let last = std::fs::read_to_string(&log).unwrap();
    let line: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert!(
        line["msg"]
            .as_str()
            .unwrap()
            .contains("\"missing\" does not exist"),
        "{line}"
    );
}

/// The value of the first of the container's cgroup files named `file`, trimmed.
fn cgroup_value(oci: &Oci, id: &str, file: &str) -> Option<String> {
    cgroup_dirs(oci, id)
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
        .map(|v| v.trim().to_owned())
}

#[test]
fn update_applies_cpuset_and_memory_with_swap() {
    vessel::require_root!();
    let oci = Oci::new(
        &["sleep", "1000"],
        serde_json::json!({"linux": {"resources": {
            "memory": {"limit": 67108864, "swap": 134217728},
            "cpu": {"cpus": "0-1"}
        }}}),
    );
    assert!(oci.create("u", &oci.bundle().join("out")).status.success());
    oci.ok(&["start", "u"]);
    let update = |resources: serde_json::Value| {
        let file = oci.bundle().join("resources.json");
        std::fs::write(&file, resources.to_string()).unwrap();
        oci.ok(&["update", "--resources", file.to_str().unwrap(), "u"]);
    };
    let v1 = cgroup_value(&oci, "u", "memory.limit_in_bytes").is_some();
    // (limit, memory+swap) as the kernel holds them, v1 or v2.
    let memory = || {
        if v1 {
            (
                cgroup_value(&oci, "u", "memory.limit_in_bytes").unwrap(),
                cgroup_value(&oci, "u", "memory.memsw.limit_in_bytes").unwrap(),
            )
        } else {
            let limit = cgroup_value(&oci, "u", "memory.max").unwrap();
            let swap: u64 = cgroup_value(&oci, "u", "memory.swap.max")
                .unwrap()
                .parse()
                .unwrap();
            let total = limit.parse::<u64>().unwrap() + swap;
            (limit, total.to_string())
        }
    };
    // Lower both (the limit must go first on v1), then raise both (memsw first).
    update(serde_json::json!({
        "memory": {"limit": 33554432, "swap": 50331648},
        "cpu": {"cpus": "0", "mems": "0"}
    }));
    assert_eq!(memory(), ("33554432".into(), "50331648".into()));
    assert_eq!(cgroup_value(&oci, "u", "cpuset.cpus").as_deref(), Some("0"));
    assert_eq!(cgroup_value(&oci, "u", "cpuset.mems").as_deref(), Some("0"));
    update(serde_json::json!({"memory": {"limit": 100663296, "swap": 201326592}}));
    assert_eq!(memory(), ("100663296".into(), "201326592".into()));
    update(serde_json::json!({"cpu": {"cpus": "1"}}));
    assert_eq!(cgroup_value(&oci, "u", "cpuset.cpus").as_deref(), Some("1"));
    oci.ok(&["delete", "--force", "u"]);
}

/// Binds `dir` at /tmp in the container (where in-container hooks write).
fn bind_at_tmp(oci: &Oci, dir: &Path) {
    let path = oci.bundle().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            {"destination": "/tmp", "type": "bind", "source": dir, "options": ["rbind", "rw"]}
        ));
    std::fs::write(&path, config.to_string()).unwrap();
}

/// A hook running `script` with `sh` (the host's or the container's, by point).
fn sh_hook(script: String) -> serde_json::Value {
    serde_json::json!([{"path": "/bin/sh", "args": ["sh", "-c", script]}])
}

// ANCHOR: in_container_hooks_split
#[test]
fn container_hooks_run_at_create_and_at_start_in_the_spec_order() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let runtime = |point: &str| sh_hook(format!("echo {point} >> {d}/order"));
    let oci = Oci::new(
        &["/bin/true"],
        serde_json::json!({"hooks": {
            "prestart": runtime("prestart"),
            "createRuntime": runtime("createRuntime"),
            "createContainer": runtime("createContainer"),
            "startContainer": sh_hook("echo startContainer >> /tmp/order".into()),
            "poststart": runtime("poststart"),
            "poststop": runtime("poststop")}}),
    );
    bind_at_tmp(&oci, dir.path());
    let order = || std::fs::read_to_string(dir.path().join("order")).unwrap_or_default();
    let created = oci.create("c", &oci.bundle().join("out"));
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert_eq!(order(), "prestart\ncreateRuntime\ncreateContainer\n");
    oci.ok(&["start", "c"]);
    // start returns once the startContainer hooks ran and the command was executed.
    assert_eq!(
        order(),
        "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\n"
    );
    wait_for("the command to end", || {
        oci.state("c")["status"] == "stopped"
    });
    oci.ok(&["delete", "c"]);
    assert!(order().ends_with("poststart\npoststop\n"), "{}", order());
}
// ANCHOR_END: in_container_hooks_split

/// The directories of the cgroups named `name` in a `/proc/PID/cgroup` listing (read
/// without a cgroup namespace in between), in every hierarchy.
fn cgroup_dirs_named(listing: &str, name: &str) -> Vec<PathBuf> {
    listing
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            if !path.ends_with(&format!("/{name}")) {
                return None;
            }
            let mount = match controllers {
                "" if Path::new("/sys/fs/cgroup/unified").is_dir() => "unified",
                "" => "",
                named => named.trim_start_matches("name="),
            };
            Some(
                Path::new("/sys/fs/cgroup")
                    .join(mount)
                    .join(path.trim_start_matches('/')),
            )
        })
        .collect()
}

/// A container with a cgroup of its own (a memory limit, so v1 hierarchies get one
/// too), named uniquely (a relative `cgroupsPath`); returns the oci and the cgroup name.
fn oci_with_own_cgroup(args: &[&str], hooks: serde_json::Value, tag: &str) -> (Oci, String) {
    let name = format!("vessel-hooktest-{tag}-{}", std::process::id());
    let oci = Oci::new(
        args,
        serde_json::json!({"hooks": hooks, "linux": {"cgroupsPath": name,
            "resources": {"memory": {"limit": 67_108_864}}}}),
    );
    (oci, name)
}

// ANCHOR: failing_create_container
#[test]
fn a_failing_create_container_hook_fails_create_and_leaves_nothing_behind() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    // The hook runs in the container's cgroups (no cgroup namespace in this bundle):
    // it notes them, then fails.
    let script = format!("cat /proc/self/cgroup > {d}/cgroups; exit 3");
    let (oci, name) = oci_with_own_cgroup(
        &["/bin/echo", "ran"],
        serde_json::json!({"createContainer": sh_hook(script),
            "poststop": sh_hook(format!("echo poststop >> {d}/order"))}),
        "create",
    );
    let out = oci.bundle().join("out");
    let created = oci.create("cc", &out);
    let stderr = text(&created.stderr);
    assert_eq!(created.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains(r#"createContainer hook "/bin/sh" (hooks.createContainer[0])"#),
        "{stderr}"
    );
    assert!(stderr.contains("exited with code 3"), "{stderr}");
    assert!(!stderr.contains("ran"), "the command ran: {stderr}");
    let during = cgroup_dirs_named(
        &std::fs::read_to_string(dir.path().join("cgroups")).unwrap(),
        &name,
    );
    assert!(!during.is_empty(), "the container had no cgroup of its own");
    for cgroup in &during {
        assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
    }
    assert_eq!(oci.ok(&["list", "-q"]), "", "a record was left behind");
    assert!(!oci.vessel(&["state", "cc"]).status.success());
    // Nothing of the id is left either: a second create gets as far as the hook again.
    let again = text(&oci.create("cc", &out).stderr);
    assert!(again.contains("exited with code 3"), "{again}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("order")).unwrap_or_default(),
        "poststop\npoststop\n"
    );
}
// ANCHOR_END: failing_create_container

#[test]
fn a_failing_start_container_hook_fails_start_and_destroys_the_container() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let (oci, name) = oci_with_own_cgroup(
        &["/bin/echo", "ran"],
        serde_json::json!({
            "startContainer": sh_hook("echo startContainer >> /tmp/order; exit 3".into()),
            "poststart": sh_hook(format!("echo poststart >> {d}/order")),
            "poststop": sh_hook(format!("echo poststop >> {d}/order"))}),
        "start",
    );
    bind_at_tmp(&oci, dir.path());
    let out = oci.bundle().join("out");
    let created = oci.create("sc", &out);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let pid = oci.state("sc")["pid"].as_i64().unwrap();
    let listing = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let cgroups: Vec<PathBuf> = cgroup_dirs_named(&listing, &name)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    assert!(
        !cgroups.is_empty(),
        "the container has no cgroup of its own"
    );
    let started = oci.vessel(&["start", "sc"]);
    let stderr = text(&started.stderr);
    assert_eq!(started.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains(r#"startContainer hook "/bin/sh" (hooks.startContainer[0])"#),
        "{stderr}"
    );
    assert!(stderr.contains("exited with code 3"), "{stderr}");
    assert_eq!(text(&std::fs::read(&out).unwrap()), "", "the command ran");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("order")).unwrap(),
        "startContainer\npoststop\n"
    );
    assert!(
        !oci.vessel(&["state", "sc"]).status.success(),
        "the record is left"
    );
    // Dead: gone, or a zombie waiting for whoever adopted it (not this test).
    let dead = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X'))
        })
    };
    assert!(dead(), "start returned with the init {pid} alive");
    for cgroup in &cgroups {
        assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
    }
}
