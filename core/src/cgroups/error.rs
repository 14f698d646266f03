//! How cgroup work fails: a request refused before anything is made, or a step on this
//! machine's cgroup files. A leaf file, so that the crate error can wrap them without
//! reaching the code that checks and applies limits.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Shorthand for results of cgroup work.
pub type Result<T, E = CgroupError> = std::result::Result<T, E>;

/// A limit that cannot be applied: which option, the value asked for, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option} {value}: {reason}")]
pub struct ResourceError {
    /// The command-line option the value belongs to (`--memory`).
    pub option: String,
    /// The value as asked for.
    pub value: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

impl ResourceError {
    /// An error for `option value`.
    pub fn new(option: &str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        ResourceError {
            option: option.to_owned(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// A step on this machine's cgroup files that failed: what vessel was doing, and why
/// it could not (the kernel's answer, or what the machine lacks).
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The kernel refused the step.
    #[error("{step}")]
    Io {
        /// What was being done.
        step: CgroupStep,
        #[source]
        source: io::Error,
    },
    /// The machine's cgroups cannot do the step as asked.
    #[error("{step}")]
    Lacking {
        /// What was being done.
        step: CgroupStep,
        #[source]
        reason: Box<Lack>,
    },
    /// A limit or name cannot be applied as asked (`--memory 64q`, `--cpus 99`).
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// A rootless caller asked for cgroup limits without a cgroup of its own to put them in.
    #[error(
        "cgroup limits: running rootless (uid {uid}) and the cgroup {dir:?} is not delegated to you (run as root, or get a delegated cgroup, e.g. systemd's Delegate=yes, or leave out the limits)"
    )]
    Rootless { uid: u32, dir: PathBuf },
}

impl CgroupError {
    /// `step` failed with `source`.
    pub(crate) fn io(step: CgroupStep) -> impl FnOnce(io::Error) -> CgroupError {
        move |source| CgroupError::Io { step, source }
    }

    /// `step` cannot be done here, because of `reason`.
    pub(crate) fn lacking(step: CgroupStep, reason: Lack) -> CgroupError {
        CgroupError::Lacking {
            step,
            reason: Box::new(reason),
        }
    }

    /// The kernel's error, if the kernel refused the step.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            CgroupError::Io { source, .. } => Some(source),
            CgroupError::Lacking { .. }
            | CgroupError::Resource(_)
            | CgroupError::Rootless { .. } => None,
        }
    }
}

/// What vessel was doing with a cgroup when it failed; each prints as the step's
/// message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupStep {
    /// `open PATH`.
    Open(PathBuf),
    /// `read PATH`.
    Read(PathBuf),
    /// `write VALUE to FILE`.
    Write { value: String, file: PathBuf },
    /// `mkdir PATH`, with a hint when the directory already exists.
    Mkdir { path: PathBuf, exists: bool },
    /// `rmdir PATH`.
    Rmdir(PathBuf),
    /// Waiting for a cgroup file to say something (`cgroup.events`, `freezer.state`).
    Wait(PathBuf),
    /// Killing every process listed in a `cgroup.procs`.
    KillAll(PathBuf),
    /// Waiting on a killed process's pidfd for its exit.
    WaitKilled,
    /// Reading a file that tells which cgroups `vessel exec` joins.
    ReadToJoin(String),
    /// statfs of `/sys/fs/cgroup`.
    DetectVersion,
    /// Finding this process's own cgroups in `/proc/self/cgroup` and its mounts.
    FindOwn,
    /// Setting a limit of `controller` in a v2 directory.
    SetLimit { controller: String, dir: PathBuf },
    /// Using a v1 controller's directory.
    UseV1 { controller: String },
    /// Setting `--blkio-weight` in a directory.
    SetBlkioWeight(PathBuf),
    /// Writing the device allow-list (v1 `devices`).
    ApplyDeviceList,
    /// `bpf(BPF_PROG_LOAD)` of the device program, with the verifier's log.
    LoadDeviceProgram {
        instructions: usize,
        needs_bpf_capability: bool,
        log: String,
    },
    /// `bpf(BPF_PROG_ATTACH)` of the device program.
    AttachDeviceProgram,
    /// A v2 `cgroup.subtree_control` write refused with `EBUSY`: why, and what to do.
    ControllersBusy(Box<CgroupStep>),
}

impl fmt::Display for CgroupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgroupStep::Open(path) => write!(f, "open {}", path.display()),
            CgroupStep::Read(path) => write!(f, "read {}", path.display()),
            CgroupStep::Write { value, file } => write!(f, "write {value:?} to {}", file.display()),
            CgroupStep::Mkdir { path, exists } => {
                write!(f, "mkdir {}", path.display())?;
                if *exists {
                    f.write_str(
                        " (a cgroup of that name exists: is a container with this id running?)",
                    )?;
                }
                Ok(())
            }
            CgroupStep::Rmdir(path) => write!(f, "rmdir {}", path.display()),
            CgroupStep::Wait(file) => write!(f, "wait for {}", file.display()),
            CgroupStep::KillAll(procs) => write!(f, "kill every process in {}", procs.display()),
            CgroupStep::WaitKilled => f.write_str("poll a pidfd for a killed process's exit"),
            CgroupStep::ReadToJoin(path) => write!(f, "open {path} of the container to join it"),
            CgroupStep::DetectVersion => {
                f.write_str("detect the cgroup version (statfs /sys/fs/cgroup)")
            }
            CgroupStep::FindOwn => f.write_str("find this process's cgroups"),
            CgroupStep::SetLimit { controller, dir } => {
                write!(f, "set a {controller} limit in {}", dir.display())
            }
            CgroupStep::UseV1 { controller } => write!(f, "use the v1 {controller} controller"),
            CgroupStep::SetBlkioWeight(dir) => write!(f, "set --blkio-weight in {}", dir.display()),
            CgroupStep::ApplyDeviceList => f.write_str("apply the device allow-list"),
            CgroupStep::LoadDeviceProgram {
                instructions,
                needs_bpf_capability,
                log,
            } => {
                write!(
                    f,
                    "load the device program (bpf BPF_PROG_LOAD, {instructions} instructions)"
                )?;
                if *needs_bpf_capability {
                    f.write_str(" (loading BPF needs CAP_SYS_ADMIN or CAP_BPF in the host)")?;
                }
                if !log.is_empty() {
                    write!(f, "; verifier log:\n{log}")?;
                }
                Ok(())
            }
            CgroupStep::AttachDeviceProgram => f.write_str(
                "attach the device program to the container's cgroup \
                 (bpf BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)",
            ),
            CgroupStep::ControllersBusy(step) => write!(
                f,
                "{step} (cgroup v2 lets a cgroup that holds processes give no \
                 controllers to children, and vessel's own cgroup holds vessel: \
                 pass --cgroup-parent /vessel to place containers below the root \
                 cgroup, or run vessel in a delegated cgroup of its own, e.g. \
                 `systemd-run --scope -p Delegate=yes vessel …`)"
            ),
        }
    }
}

/// What this machine's cgroups lack for a step: not the kernel refusing a call, but
/// something vessel found missing before or after making it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lack {
    /// What is mounted at the cgroup root is neither cgroup2 nor a tmpfs of v1
    /// hierarchies.
    #[error(
        "{} is neither a cgroup2 mount nor a tmpfs of v1 hierarchies (filesystem magic {magic:#x})",
        root.display()
    )]
    NotCgroupFs { root: PathBuf, magic: libc::c_long },
    /// A CPU list file held no CPU list.
    #[error("{}: {text:?}: {reason}", path.display())]
    NotACpuList {
        path: PathBuf,
        text: String,
        reason: String,
    },
    /// A cgroup file held something other than a number.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// Killing a cgroup's processes did not empty it.
    #[error("processes still there after {rounds} rounds")]
    ProcessesRemain { rounds: usize },
    /// `/proc/self/cgroup` has no `0::` line on a v2 host.
    #[error("no `0::` line in /proc/self/cgroup")]
    NoUnifiedLine,
    /// No cgroup2 filesystem is mounted.
    #[error("no cgroup2 mount in /proc/self/mountinfo")]
    NoCgroup2Mount,
    /// No v1 hierarchy vessel can use is mounted.
    #[error("no v1 memory, cpu, cpuset, pids, freezer, devices or blkio hierarchy is mounted")]
    NoV1Hierarchy,
    /// A v2 directory does not offer the controller a limit needs.
    #[error(
        "the {controller} controller is not in its cgroup.controllers (the parent's \
         cgroup.subtree_control lacks +{controller}; drop that limit or enable it)"
    )]
    ControllerNotEnabled { controller: String },
    /// The container's cgroup has no directory in the hierarchy of a v1 controller.
    #[error(
        "the container's cgroup has no directory in a v1 {controller} hierarchy: \
         none is mounted under /sys/fs/cgroup (drop that limit), or the container \
         was started without a {controller} limit (give one at the start)"
    )]
    NoV1Directory { controller: String },
    /// No v1 devices hierarchy is mounted.
    #[error(
        "no v1 devices hierarchy is mounted under /sys/fs/cgroup, so container root \
         could open any device it makes with mknod (mount the devices controller, \
         or run with --privileged to go without device rules)"
    )]
    NoDevicesHierarchy,
    /// Neither weight file of a proportional block I/O policy exists.
    #[error(
        "it has neither {} nor {}: this kernel has no proportional block I/O policy \
         for cgroups (CFQ is gone since Linux 5.0; BFQ needs `modprobe bfq`, or \
         CONFIG_IOSCHED_BFQ; on v2, io.weight needs CONFIG_BLK_CGROUP_IOCOST); drop \
         --blkio-weight",
        files[0], files[1]
    )]
    NoWeightFile { files: [&'static str; 2] },
}
