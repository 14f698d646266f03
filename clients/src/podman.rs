//! podman (Debian's 4.3) with all its state in a temporary directory and a runtime chosen
//! by path: `--root`, `--runroot` and `--tmpdir` there, a containers.conf of its own
//! (through `CONTAINERS_CONF`) with the cgroupfs manager, file events and file locks
//! (so no two harnesses share podman's SHM lock table), no network unless a test asks,
//! and `default_ulimits` within this host's hard RLIMIT_NOFILE of 20000 (podman's own
//! default of 1048576 would be refused). Every container's cgroup, and conmon's, goes
//! under this process's own cgroup (`--cgroup-parent`).
//!
//! The image is vessel's busybox rootfs, imported from a tar as `localhost/busybox`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Skip;
use crate::docker_cli::DockerCli;

/// Where Debian's podman is.
pub const PODMAN: &str = "/usr/bin/podman";

/// The image every scenario runs.
pub const IMAGE: &str = "localhost/busybox:latest";

/// podman with its own state, driving one OCI runtime.
#[derive(Debug)]
pub struct Podman {
    work: tempfile::TempDir,
    runtime: PathBuf,
    cgroup_parent: PathBuf,
}

impl Podman {
    /// A podman whose containers run under `runtime` (an absolute path), with
    /// [`IMAGE`] imported.
    pub fn new(runtime: &Path) -> Result<Podman, Skip> {
        crate::require_root()?;
        crate::require_tool(PODMAN, "podman")?;
        crate::require_tool("/usr/bin/conmon", "conmon")?;
        let work = tempfile::Builder::new()
            .prefix("vessel-podman-")
            .tempdir()
            .map_err(|e| Skip(format!("make a work directory: {e}")))?;
        let podman = Podman {
            cgroup_parent: crate::cgroup::parent_for("podman"),
            runtime: runtime.to_owned(),
            work,
        };
        std::fs::create_dir_all(podman.dir("networks"))
            .and_then(|()| std::fs::write(podman.dir("containers.conf"), podman.config()))
            .and_then(|()| std::fs::write(podman.dir("storage.conf"), podman.storage_config()))
            .map_err(|e| Skip(format!("write containers.conf: {e}")))?;
        let tar = crate::image::busybox_tar(podman.work.path()).map_err(Skip)?;
        let tar = tar.to_string_lossy().into_owned();
        let out = podman.output(&["import", "--quiet", &tar, IMAGE]);
        let _ = std::fs::remove_file(&tar);
        if !out.status.success() {
            panic!(
                "podman import {tar} {IMAGE}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(podman)
    }

    /// The work directory's `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// storage.conf: vfs (layers are plain directories, nothing is left mounted) in the
    /// work directory, so the host's /etc/containers/storage.conf is never read.
    fn storage_config(&self) -> String {
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            self.dir("storage").display(),
            self.dir("run").display()
        )
    }

    fn config(&self) -> String {
        let tmp = self.dir("tmp");
        let networks = self.dir("networks");
        format!(
            r#"[containers]
default_ulimits = ["nofile=1024:1024", "nproc={nproc}:{nproc}"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{tmp}/events.log"
lock_type = "file"
# podman hands `--log FILE --log-format json` only to runtimes named here.
runtime_supports_json = ["crun", "runc", "youki", "vessel"]
tmp_dir = "{tmp}"
volume_path = "{volumes}"
static_dir = "{static_dir}"

[network]
network_config_dir = "{networks}"
"#,
            tmp = tmp.display(),
            nproc = hard_nproc(),
            volumes = self.dir("volumes").display(),
            static_dir = self.dir("libpod").display(),
            networks = networks.display(),
        )
    }
}

impl DockerCli for Podman {
    fn name(&self) -> &'static str {
        "podman"
    }

    fn program(&self) -> &'static str {
        PODMAN
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

    /// `podman --root … --runtime RUNTIME args…`, ready to run. `run` and `create` get
    /// `--cgroup-parent` right after the subcommand.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PODMAN);
        command
            .env("CONTAINERS_CONF", self.dir("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.dir("storage.conf"))
            .arg("--root")
            .arg(self.dir("storage"))
            .arg("--runroot")
            .arg(self.dir("run"))
            .arg("--tmpdir")
            .arg(self.dir("tmp"))
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args(["--events-backend", "file"])
            .arg("--runtime")
            .arg(&self.runtime)
            // The runtime's own state (runc's /run/runc) in the work directory too.
            .arg("--runtime-flag")
            .arg(format!("root={}", self.dir("runtime-root").display()));
        match args.split_first() {
            Some((verb, rest)) if *verb == "run" || *verb == "create" => {
                command
                    .arg(verb)
                    .arg("--cgroup-parent")
                    .arg(&self.cgroup_parent)
                    .args(rest);
            }
            _ => {
                command.args(args);
            }
        }
        command
    }

    fn remove_now(&self) -> &'static [&'static str] {
        &["--force", "--time", "0"]
    }
}

impl Drop for Podman {
    /// Removes every container (killing running ones), then podman's storage, whose vfs
    /// layers are plain directories, and the cgroups podman left.
    fn drop(&mut self) {
        let _ = self.output(&["rm", "--all", "--force", "--time", "0"]);
        let _ = self.output(&["system", "reset", "--force"]);
        // podman leaves its runroot's shm mounts and the storage's own mounts behind.
        unmount_below(self.work.path());
        crate::cgroup::remove_tree(&self.cgroup_parent);
    }
}

/// This process's hard RLIMIT_NPROC: podman (as root) asks for a larger one than
/// a container here may have, unless told.
fn hard_nproc() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut limit) } != 0 {
        return 4096;
    }
    // Not the hard limit itself: runc's prlimit of its init to this host's 96368 was
    // refused (EPERM, no CAP_SYS_RESOURCE here), a lower one is always allowed.
    limit.rlim_max.min(4096)
}

/// Lazily unmounts everything mounted below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut below: Vec<PathBuf> = mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(dir))
        .collect();
    below.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for point in below {
        if let Ok(c) = std::ffi::CString::new(point.as_os_str().as_encoded_bytes()) {
            // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}
