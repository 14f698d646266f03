//! dockerd (Debian's docker.io 20.10) with all its state in a temporary directory:
//! `--data-root`, `--exec-root`, `--pidfile`, its own socket (`-H unix://…`), the vfs
//! storage driver, no iptables and no bridge (`--bridge=none`: containers get `none`
//! networking, no host network is touched), cgroups under ours (`--cgroup-parent`), and
//! its own containerd, which dockerd starts and stops itself. The runtime is a
//! `runtimes` entry of a daemon.json of our own, named `under-test`. The daemon is this
//! harness's child and is stopped (by its pid) on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Skip;
use crate::docker_cli::DockerCli;

/// Debian's dockerd.
pub const DOCKERD: &str = "/usr/sbin/dockerd";
/// Debian's docker client (not the machine image's `/usr/local/bin/docker`).
pub const DOCKER: &str = "/usr/bin/docker";
/// The image every scenario runs.
pub const IMAGE: &str = "busybox";
/// The daemon.json name of the runtime under test.
pub const RUNTIME: &str = "under-test";

/// A dockerd of our own whose `under-test` runtime is the one given.
#[derive(Debug)]
pub struct Docker {
    daemon: Option<Child>,
    runtime: PathBuf,
    cgroup_parent: PathBuf,
    work: tempfile::TempDir,
}

impl Docker {
    /// Starts dockerd with `runtime` (an absolute path) as `under-test`, and imports
    /// vessel's busybox rootfs as [`IMAGE`].
    pub fn new(runtime: &Path) -> Result<Docker, Skip> {
        crate::require_root()?;
        crate::require_tool(DOCKERD, "docker.io")?;
        crate::require_tool(DOCKER, "docker.io")?;
        let work = tempfile::Builder::new()
            .prefix("vessel-docker-")
            .tempdir()
            .map_err(|e| Skip(format!("make a work directory: {e}")))?;
        let mut docker = Docker {
            daemon: None,
            runtime: runtime.to_owned(),
            cgroup_parent: crate::cgroup::parent_for("dockerd"),
            work,
        };
        let config = serde_json::json!({"runtimes": {RUNTIME: {"path": runtime}}});
        std::fs::write(docker.dir("daemon.json"), config.to_string())
            .map_err(|e| Skip(format!("write daemon.json: {e}")))?;
        let log = std::fs::File::create(docker.dir("dockerd.log"))
            .map_err(|e| Skip(format!("create dockerd.log: {e}")))?;
        let daemon = Command::new(DOCKERD)
            .arg("--data-root")
            .arg(docker.dir("data"))
            .arg("--exec-root")
            .arg(docker.dir("exec"))
            .arg("--pidfile")
            .arg(docker.dir("dockerd.pid"))
            .arg("-H")
            .arg(docker.host())
            .arg("--config-file")
            .arg(docker.dir("daemon.json"))
            .arg("--cgroup-parent")
            .arg(&docker.cgroup_parent)
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .args(["--storage-driver", "vfs"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| Skip(e.to_string()))?)
            .stderr(log)
            .spawn()
            .map_err(|e| Skip(format!("start {DOCKERD}: {e}")))?;
        docker.daemon = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !docker.output(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within 30 s: {}",
                std::fs::read_to_string(docker.dir("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let tar = crate::image::busybox_tar(docker.work.path()).map_err(Skip)?;
        docker.ok(&["import", &tar.to_string_lossy(), IMAGE]);
        let _ = std::fs::remove_file(tar);
        Ok(docker)
    }

    /// The work directory's `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir("docker.sock").display())
    }
}

impl DockerCli for Docker {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn program(&self) -> &'static str {
        DOCKER
    }

    fn image(&self) -> &'static str {
        IMAGE
    }

    fn runtime(&self) -> &Path {
        &self.runtime
    }

    fn cgroup_parent(&self) -> &Path {
        &self.cgroup_parent
    }

    /// `docker -H OURS args…`; `run` and `create` get `--runtime under-test`.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(DOCKER);
        command.arg("-H").arg(self.host());
        match args.split_first() {
            Some((verb, rest)) if *verb == "run" || *verb == "create" => {
                command.arg(verb).args(["--runtime", RUNTIME]).args(rest);
            }
            _ => {
                command.args(args);
            }
        }
        command
    }

    fn remove_now(&self) -> &'static [&'static str] {
        &["--force"]
    }
}

impl Drop for Docker {
    /// Removes every container, stops dockerd (which stops its containerd), unmounts
    /// what is left under the work directory and removes the cgroups.
    fn drop(&mut self) {
        let ids = self.output(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).lines() {
            let _ = self.output(&["rm", "-f", id]);
        }
        if let Some(mut daemon) = self.daemon.take() {
            crate::daemon::stop(&mut daemon, crate::daemon::SHUTDOWN_GRACE);
        }
        crate::podman::unmount_below(self.work.path());
        crate::cgroup::remove_tree(&self.cgroup_parent);
    }
}
