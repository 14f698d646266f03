//! containerd 1.6 (Debian's) with all its state in a temporary directory: its own
//! `root`, `state`, gRPC socket and a config that disables the CRI plugin (no CNI, no
//! image pulls); containers run from a plain rootfs directory (`ctr run --rootfs`) with
//! `containerd-shim-runc-v2` calling the runtime given by path (`--runc-binary`, its
//! state under `--runc-root` in the work directory) and cgroups under ours (`--cgroup`).
//! The daemon is this harness's child and is stopped (by its pid) on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::Skip;

/// Debian's containerd and ctr.
pub const CONTAINERD: &str = "/usr/bin/containerd";
/// The client.
pub const CTR: &str = "/usr/bin/ctr";
/// The namespace every container goes in.
pub const NAMESPACE: &str = "vessel-test";

/// A containerd daemon of our own, driving one OCI runtime.
#[derive(Debug)]
pub struct Containerd {
    daemon: Option<Child>,
    runtime: PathBuf,
    rootfs: PathBuf,
    cgroup_parent: PathBuf,
    work: tempfile::TempDir,
}

impl Containerd {
    /// Starts containerd for containers run by `runtime` (an absolute path) on vessel's
    /// busybox rootfs.
    pub fn new(runtime: &Path) -> Result<Containerd, Skip> {
        crate::require_root()?;
        crate::require_tool(CONTAINERD, "containerd")?;
        crate::require_tool("/usr/bin/containerd-shim-runc-v2", "containerd")?;
        let work = tempfile::Builder::new()
            .prefix("vessel-containerd-")
            .tempdir()
            .map_err(|e| Skip(format!("make a work directory: {e}")))?;
        let rootfs = work.path().join("rootfs");
        vessel::rootfs::build_from(&rootfs, &vessel::rootfs::source())
            .map_err(|(step, e)| Skip(format!("build the busybox rootfs ({step}): {e}")))?;
        let mut containerd = Containerd {
            daemon: None,
            runtime: runtime.to_owned(),
            rootfs,
            cgroup_parent: crate::cgroup::parent_for("containerd"),
            work,
        };
        let config = containerd.dir("config.toml");
        std::fs::write(&config, containerd.config())
            .map_err(|e| Skip(format!("write {}: {e}", config.display())))?;
        let log = std::fs::File::create(containerd.dir("containerd.log"))
            .map_err(|e| Skip(format!("create containerd.log: {e}")))?;
        let daemon = Command::new(CONTAINERD)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| Skip(e.to_string()))?)
            .stderr(log)
            .spawn()
            .map_err(|e| Skip(format!("start {CONTAINERD}: {e}")))?;
        containerd.daemon = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !containerd.ctr(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "containerd did not answer within 20 s: {}",
                std::fs::read_to_string(containerd.dir("containerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(containerd)
    }

    /// The work directory's `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// The cgroup parent of every container.
    pub fn cgroup_parent(&self) -> &Path {
        &self.cgroup_parent
    }

    fn config(&self) -> String {
        format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
"#,
            root = self.dir("root").display(),
            state = self.dir("state").display(),
            socket = self.socket().display(),
        )
    }

    /// containerd's gRPC socket.
    pub fn socket(&self) -> PathBuf {
        self.dir("containerd.sock")
    }

    /// `ctr --address SOCKET --namespace NS args…`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(CTR);
        command
            .arg("--address")
            .arg(self.socket())
            .arg("--namespace")
            .arg(NAMESPACE)
            .args(args);
        command
    }

    /// `ctr args…` to the end, stdin closed.
    pub fn ctr(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {CTR}: {e}"))
    }

    /// `ctr args…`; panics with its stderr unless it exits 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.ctr(args);
        assert!(
            out.status.success(),
            "ctr {} (runtime {}) exited {}: {}",
            args.join(" "),
            self.runtime.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The arguments of `ctr run` for container `id` on the rootfs with the runtime,
    /// `extra` options, then the command.
    pub fn run_args(&self, id: &str, extra: &[&str], command: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--rootfs".into(),
            "--runc-binary".into(),
            self.runtime.display().to_string(),
            "--runc-root".into(),
            self.dir("runc-root").display().to_string(),
            "--cgroup".into(),
            self.cgroup_parent.join(id).display().to_string(),
            // A plain rootfs has no image config to give a PATH.
            "--env".into(),
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.push(self.rootfs.display().to_string());
        args.push(id.to_owned());
        args.extend(command.iter().map(|s| (*s).to_owned()));
        args
    }

    /// `ctr run` of container `id` (see [`Containerd::run_args`]) to the end.
    pub fn run(&self, id: &str, extra: &[&str], command: &[&str]) -> Output {
        let args = self.run_args(id, extra, command);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ctr(&args)
    }
}

impl Drop for Containerd {
    /// Kills and removes every task and container, stops the daemon, unmounts what it
    /// left under the work directory and removes the cgroups.
    fn drop(&mut self) {
        let tasks = self.ctr(&["tasks", "ls", "--quiet"]);
        for id in String::from_utf8_lossy(&tasks.stdout).lines() {
            let _ = self.ctr(&["tasks", "kill", "--signal", "SIGKILL", id]);
            let _ = self.ctr(&["tasks", "delete", "--force", id]);
        }
        let containers = self.ctr(&["containers", "ls", "--quiet"]);
        for id in String::from_utf8_lossy(&containers.stdout).lines() {
            let _ = self.ctr(&["containers", "delete", id]);
        }
        if let Some(mut daemon) = self.daemon.take() {
            crate::daemon::stop(&mut daemon, crate::daemon::SHUTDOWN_GRACE);
        }
        crate::podman::unmount_below(self.work.path());
        crate::cgroup::remove_tree(&self.cgroup_parent);
    }
}
