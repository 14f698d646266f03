//! One container's record: what it is (id, name, image, command, limits, mounts), where
//! its pieces are (cgroup directories, layers, log) and where it is in its life. The same
//! record serves a container `vessel create` made (OCI): it has an [`OciSection`] too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::id::ContainerId;
use super::paths::Layers;
use super::process;
use super::resolve::Candidate;

/// Where a container is in its life. The only way from one to the next is
/// [`Record::apply`] (see [`super::machine`]); a removed container has no record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded, not started yet (or starting).
    #[default]
    Created,
    /// Its first process is running.
    Running,
    /// Its first process ended (or never started); `exit_code` says how, if known.
    Exited,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        })
    }
}

/// The limits a container was given, as numbers (`None`: unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    /// CFS quota and period in µs.
    pub cpu_quota_us: Option<u64>,
    /// CFS period in µs.
    pub cpu_period_us: Option<u64>,
    /// Relative CPU weight (v1 shares).
    pub cpu_shares: Option<u64>,
    /// CPUs it may run on (`0-1,3`).
    pub cpuset_cpus: Option<String>,
    /// The most processes at once.
    pub pids_max: Option<u64>,
}

/// A mount the container has (made inside its own mount namespace: the host never
/// sees it, which is why removing a container unmounts nothing on the host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountRecord {
    /// `overlay` (its root) or `bind` (a volume).
    pub kind: String,
    /// The host path (for overlay: the upper layer).
    pub source: PathBuf,
    /// Where it appears inside the container.
    pub destination: PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
}

/// What a container made by `vessel create` has besides: the bundle it came from. Its
/// status is not kept: `vessel state` reads it from the kernel each time (see
/// `oci::state::OciStore::status`), as no vessel process stays behind to record it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciSection {
    /// The bundle directory (absolute).
    pub bundle: PathBuf,
    /// config.json's annotations.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
}

/// Everything vessel remembers about one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 12 hex digits.
    pub id: ContainerId,
    /// The name given with `--name`, unique among the records.
    pub name: Option<String>,
    /// The image it runs (`None` for a plain `--rootfs` directory).
    #[serde(default)]
    pub image: Option<String>,
    /// The command and its arguments (a default, like `shim_pid` and `status`, so that
    /// the OCI state an older vessel wrote, which had none of the three, still reads).
    #[serde(default)]
    pub command: Vec<String>,
    /// The rootfs directory.
    pub rootfs: PathBuf,
    /// The container's first process, as the host numbers it; 0 until it is cloned
    /// (recorded before it may run anything, see [`super::Event::Cloned`]).
    pub pid: libc::pid_t,
    /// That process's start time (field 22 of `/proc/PID/stat`), so a recycled pid is
    /// never taken for the container.
    pub pid_start_time: u64,
    /// The process that supervises the container: the shim of `vessel run -d`, or the
    /// `vessel run` in the foreground. It reaps the container and records its exit. 0
    /// for a container `vessel create` made: no vessel process stays with it.
    #[serde(default)]
    pub shim_pid: libc::pid_t,
    /// The supervisor's start time, for the same reason as `pid_start_time`.
    #[serde(default)]
    pub shim_start_time: u64,
    /// Where the container is in its life.
    #[serde(default)]
    pub status: Status,
    /// The exit code (128 + n for signal n) once exited; `None` if nobody saw it.
    pub exit_code: Option<i32>,
    /// Whether the kernel's OOM killer struck in the container's cgroup.
    #[serde(default)]
    pub oom_killed: bool,
    /// When the record was made (RFC 3339, UTC).
    pub created: String,
    /// When the first process started.
    pub started: Option<String>,
    /// When the first process ended.
    pub finished: Option<String>,
    /// The limits it was given.
    #[serde(default)]
    pub limits: Limits,
    /// Its mounts (inside its own mount namespace).
    #[serde(default)]
    pub mounts: Vec<MountRecord>,
    /// Its cgroup directories (one per v1 hierarchy, or the v2 one); empty without limits.
    #[serde(default)]
    pub cgroup_dirs: Vec<PathBuf>,
    /// Its own layers (`containers/ID` under the state root, see [`Record::layers`]), if
    /// it runs on an image.
    #[serde(default)]
    pub layers_dir: Option<PathBuf>,
    /// The file its output is logged to (detached containers only).
    #[serde(default)]
    pub log: Option<PathBuf>,
    /// `--rm`: its supervisor removes it once it exits.
    #[serde(default)]
    pub auto_remove: bool,
    /// For a container `vessel create` made, its bundle (`None` for `vessel run`'s).
    /// Flattened: the OCI state file keeps `bundle` and `annotations` at its top level.
    #[serde(flatten)]
    pub oci: Option<OciSection>,
}

/// What a record's status means *now*, checked against the kernel: a record that says
/// "running" whose process is gone (its supervisor was killed before it could record
/// the exit) is exited, not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Created and its supervisor is still starting it.
    Created,
    /// The recorded process is alive and is the same process.
    Running,
    /// Exited, with the code if it was recorded.
    Exited(Option<i32>),
    /// Its supervisor died before starting it: it never ran.
    NeverStarted,
}

impl Record {
    /// A record for a container about to start, supervised by the calling process.
    pub fn new(
        id: ContainerId,
        name: Option<String>,
        command: Vec<String>,
        rootfs: PathBuf,
    ) -> Record {
        let me = std::process::id() as libc::pid_t;
        Record {
            id,
            name,
            image: None,
            command,
            rootfs,
            pid: 0,
            pid_start_time: 0,
            shim_pid: me,
            shim_start_time: process::start_time(me).unwrap_or(0),
            status: Status::Created,
            exit_code: None,
            oom_killed: false,
            created: super::now_rfc3339(),
            started: None,
            finished: None,
            limits: Limits::default(),
            mounts: Vec::new(),
            cgroup_dirs: Vec::new(),
            layers_dir: None,
            log: None,
            auto_remove: false,
            oci: None,
        }
    }

    /// The bundle a container `vessel create` made came from (empty for any other).
    pub fn bundle(&self) -> &Path {
        self.oci.as_ref().map_or(Path::new(""), |oci| &oci.bundle)
    }

    /// Its own layers, if it runs on an image.
    pub fn layers(&self) -> Option<Layers> {
        self.layers_dir.as_ref().map(Layers::at)
    }

    /// Whether the record says running *and* its pid is still the same process.
    pub fn is_running(&self) -> bool {
        self.status == Status::Running && process::is_same_process(self.pid, self.pid_start_time)
    }

    /// Whether the supervisor (shim) is still alive and is the same process.
    pub fn shim_alive(&self) -> bool {
        process::is_same_process(self.shim_pid, self.shim_start_time)
    }

    // ANCHOR: observed
    /// The status checked against the kernel (pid *and* start time), never trusting a
    /// "running" that nobody can vouch for any more.
    pub fn observed(&self) -> Observed {
        match self.status {
            Status::Running if self.is_running() => Observed::Running,
            Status::Running => Observed::Exited(None),
            Status::Created if self.shim_alive() => Observed::Created,
            // Its supervisor died after the clone: the process may have gone on to run
            // the command, with nobody left to record it. It is running until it is not.
            Status::Created if process::is_same_process(self.pid, self.pid_start_time) => {
                Observed::Running
            }
            Status::Created => Observed::NeverStarted,
            Status::Exited if self.started.is_none() => Observed::NeverStarted,
            Status::Exited => Observed::Exited(self.exit_code),
        }
    }
    // ANCHOR_END: observed

    /// The status as a user should read it.
    pub fn observed_status(&self) -> String {
        self.describe(self.observed())
    }

    /// `observed`, this record's [`Record::observed`] taken a moment ago, as a user
    /// should read it: for a caller that also acts on it, so both agree.
    pub fn describe(&self, observed: Observed) -> String {
        match observed {
            Observed::Created => "created".to_owned(),
            Observed::Running => "running".to_owned(),
            Observed::Exited(Some(code)) if self.oom_killed => {
                format!("exited with code {code} (OOM-killed)")
            }
            Observed::Exited(Some(code)) => format!("exited with code {code}"),
            // Reaped or about to be: its supervisor is writing the exit down right now.
            Observed::Exited(None) if self.status == Status::Running && self.shim_alive() => {
                "exited (its exit is being recorded)".to_owned()
            }
            Observed::Exited(None) => "exited (exit not recorded: its supervisor died)".to_owned(),
            Observed::NeverStarted => "never started (its supervisor died)".to_owned(),
        }
    }
}

impl Candidate for Record {
    fn id(&self) -> &ContainerId {
        &self.id
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
