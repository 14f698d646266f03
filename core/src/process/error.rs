//! How starting, joining or waiting for a container's process fails: the spec the
//! plan refuses, the parent's own steps, the child's failing steps
//! ([`ProcessError::Step`]) and hooks ([`ProcessError::Hook`]), and the folders below
//! whose errors pass through. A leaf file, so that the crate error can wrap it without
//! reaching the process code.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::exit::ExitStatus;

/// Shorthand for results in process/.
pub type Result<T, E = ProcessError> = std::result::Result<T, E>;

/// Why a container's process could not be planned, started, joined or waited for.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The rootfs path is unusable.
    #[error(
        "rootfs {path:?}: {reason} (pass an existing directory with --rootfs DIR, or leave it out to use the default rootfs)"
    )]
    Rootfs { path: PathBuf, reason: &'static str },

    /// No command was given.
    #[error("no command given (put it after `--`, e.g. `vessel run -- /bin/sh`)")]
    NoCommand,

    /// The hostname would be refused by the kernel or by resolvers.
    #[error(
        "hostname {name:?}: {reason} (use letters, digits, '-' and '.', at most 64 characters)"
    )]
    InvalidHostname { name: String, reason: &'static str },

    /// A hostname was asked for without a UTS namespace to hold it.
    #[error(
        "a hostname needs its own UTS namespace (keep `uts` in the namespaces, or drop the hostname)"
    )]
    HostnameWithoutUts,

    /// The working directory is relative.
    #[error("working directory {0:?} is not absolute (use an absolute path such as -w /tmp)")]
    RelativeCwd(PathBuf),

    /// An environment entry has no `=`, or nothing before it.
    #[error("invalid environment variable: {0} (use -e KEY=VALUE, with a KEY)")]
    InvalidEnv(String),

    /// The container was given capability sets the kernel would refuse.
    #[error("capabilities: {0}")]
    InvalidCapabilities(String),

    /// The container asks for capabilities vessel itself does not hold.
    #[error(
        "the container would keep {missing}, which vessel itself does not have (run vessel with it, give the container a user namespace, or leave it out with --cap-drop)"
    )]
    CapabilitiesUnavailable {
        /// The missing capabilities, as `CapSet` prints them.
        missing: String,
    },

    /// A string meant for the kernel contains a NUL byte.
    #[error("{what} {value:?} contains a NUL byte, which the kernel cannot take")]
    NulByte { what: &'static str, value: String },

    /// Entering a rootfs needs a private mount table.
    #[error("entering a rootfs needs a mount namespace (keep `mnt` in the namespaces)")]
    NeedsMountNamespace,

    /// The user namespace's id mapping cannot work.
    #[error("user namespace id mapping: {0} (map container root, e.g. --userns 0:100000:65536)")]
    InvalidIdMapping(&'static str),

    /// Writing a time namespace's clock offsets failed.
    #[error(
        "write time offsets monotonic={monotonic}s, boottime={boottime}s to /proc/PID/timens_offsets (offsets must keep the clocks positive)"
    )]
    TimeOffsets {
        monotonic: i64,
        boottime: i64,
        #[source]
        source: io::Error,
    },

    /// A container is known but not running any more.
    #[error("container {id} is not running ({status}); start a new one with `vessel run -d`")]
    NotRunning { id: String, status: String },

    /// A pre-planned step failed in the child, before the command started.
    #[error("{step}")]
    Step {
        step: String,
        #[source]
        source: io::Error,
    },

    /// A mount step met a symlink where the container's filesystem needs a directory or
    /// a file: vessel resolves every path inside the rootfs and does not mount through one.
    #[error(
        "{step}: the path is a symlink in the container's filesystem, and vessel does not mount through symlinks (make it a real directory in the image, or mount on the path it points to)"
    )]
    SymlinkInRootfs { step: String },

    /// The command does not exist in the container's rootfs.
    #[error(
        "{command:?}: command not found in the container (looked in {searched}; check the rootfs has it, or give a full path)"
    )]
    CommandNotFound { command: String, searched: String },

    /// The command exists but cannot be executed.
    #[error(
        "{command:?}: found in the container but cannot be executed (check it is a file with the x bit, built for this machine)"
    )]
    NotExecutable {
        command: String,
        #[source]
        source: io::Error,
    },

    /// A `-v HOST:CTR[:ro]` volume or a `--tmpfs PATH[:OPTIONS]` mount cannot be made
    /// as asked.
    #[error(transparent)]
    MountSpec(#[from] crate::rootfs::error::MountSpecError),

    /// Creating, writing, reading or removing a cgroup failed at one step.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::error::CgroupError),

    /// A terminal could not be set up or relayed.
    #[error(transparent)]
    Tty(#[from] crate::tty::error::TtyError),

    /// A seccomp profile cannot be read or compiled.
    #[error(transparent)]
    Seccomp(#[from] crate::security::seccomp::error::SeccompError),

    /// `--user`/`--group-add` name someone the image does not know.
    #[error(transparent)]
    User(#[from] crate::security::user::UserError),

    /// A `--ulimit` or `--sysctl` cannot be applied as asked.
    #[error(transparent)]
    Limit(#[from] crate::security::limits::LimitError),

    /// A `--cap-add`/`--cap-drop` name is not a capability.
    #[error(transparent)]
    UnknownCapability(#[from] crate::security::capabilities::UnknownCapability),

    /// Writing a user namespace's uid_map, gid_map or setgroups failed.
    #[error(transparent)]
    IdMap(#[from] crate::namespaces::error::IdMapError),

    /// A network could not be attached to the container (boxed: a `NetworkError` is
    /// the largest cause, and inline it would make every result of the crate large).
    #[error(transparent)]
    Network(Box<crate::network::error::NetworkError>),

    /// A resource limit cannot be applied as asked.
    #[error(transparent)]
    Resource(#[from] crate::cgroups::error::ResourceError),

    /// The kernel refused the step.
    #[error("{step}")]
    Io {
        step: ProcessStep,
        #[source]
        source: io::Error,
    },
    /// Opening what `vessel exec` joins (a `/proc/PID/ns` file, the root, the status
    /// that tells the container's capabilities or seccomp mode) failed.
    #[error("open {what} of the container to join it")]
    Join {
        what: JoinedFile,
        #[source]
        source: io::Error,
    },
    /// The step could not be done, for a reason that is no system call's error.
    #[error("{step}")]
    Refused {
        step: ProcessStep,
        #[source]
        reason: Refusal,
    },
    /// A hook the container's process ran (an OCI `createContainer` or
    /// `startContainer` hook) failed: which one, and how.
    #[error("{hook}")]
    Hook {
        /// The hook, as its step describes it.
        hook: String,
        #[source]
        outcome: HookOutcome,
    },
}

impl From<crate::network::error::NetworkError> for ProcessError {
    fn from(error: crate::network::error::NetworkError) -> ProcessError {
        ProcessError::Network(Box::new(error))
    }
}

/// How a hook failed, as its step's report says.
#[derive(Debug, thiserror::Error)]
pub enum HookOutcome {
    /// It ran and ended unsuccessfully (a non-zero exit, or a signal).
    #[error("the hook {0}")]
    Ended(ExitStatus),
    /// It outlived its timeout and was killed.
    #[error("the hook outlived its timeout and was killed ({0})")]
    TimedOut(ExitStatus),
    /// A system call failed, the hook's own `execve` included.
    #[error(transparent)]
    Sys(io::Error),
}

impl ProcessError {
    /// The exit code `vessel run` uses for this error, as docker does: 127 when the
    /// command is not found, 126 when it is found but not executable, 125 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProcessError::CommandNotFound { .. } => 127,
            ProcessError::NotExecutable { .. } => 126,
            _ => 125,
        }
    }

    /// `step` failed with `source`.
    pub fn io(step: ProcessStep) -> impl FnOnce(io::Error) -> ProcessError {
        move |source| ProcessError::Io { step, source }
    }

    /// `step` failed with the current `errno`.
    pub fn last_os(step: ProcessStep) -> ProcessError {
        ProcessError::io(step)(io::Error::last_os_error())
    }

    /// `step` cannot be done, because of `reason`.
    pub fn refused(step: ProcessStep, reason: Refusal) -> ProcessError {
        ProcessError::Refused { step, reason }
    }
}

/// Why a step was refused without a system call failing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The container's first process ended before it reached `execve` or reported a
    /// failing step.
    #[error("the child {status} before exec")]
    ChildEnded {
        /// How it ended.
        status: ExitStatus,
    },
    /// The process that joins a container ended without a report.
    #[error("the joining process ended without a report")]
    NoJoinReport,
    /// A namespace type that cannot be joined by a path.
    #[error("{namespace}: only network, IPC and UTS namespaces can be joined by path")]
    NotJoinable {
        /// The namespace, as its `Debug` prints it.
        namespace: String,
    },
}

/// What the parent was doing when a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessStep {
    /// Opening `/dev/null` for a captured command's stdin.
    OpenDevNull,
    /// `pipe2` of a go or report pipe.
    Pipe,
    /// Writing the go byte.
    WriteGo,
    /// Reading the child's report.
    ReadReport,
    /// `clone3` of the container's first process.
    Clone,
    /// `clone3` of it straight into its cgroup (`CLONE_INTO_CGROUP`).
    CloneIntoCgroup,
    /// Waiting for the child to finish its set-up.
    SetUp,
    /// A report naming a step the plan does not have.
    UnknownStep,
    /// `pidfd_send_signal` to the container's first process.
    Signal,
    /// `waitpid` of it.
    Waitpid,
    /// `clone3` of the process that joins a container (`exec`).
    CloneJoiner,
    /// A pidfd for the joined command.
    PidfdJoined,
    /// Joining the container.
    Join,
    /// Reading the joined command's pid.
    ReadJoinedPid,
    /// Mounting the overlay from the parent, for a user namespace.
    PremountOverlay,
    /// The memfd holding the hooks' state document.
    HooksStateMemfd,
    /// Opening the image's root to look up `--user`.
    OpenImageRoot,
    /// Joining a namespace by path.
    JoinByPath,
    /// Opening the namespace file to join.
    OpenNamespace,
    /// Waiting for the child to make its time namespace.
    AwaitTimeNamespace,
    /// Letting the child enter it once its offsets are written.
    EnterTimeNamespace,
}

impl fmt::Display for ProcessStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProcessStep::OpenDevNull => "open /dev/null",
            ProcessStep::Pipe => "pipe2",
            ProcessStep::WriteGo => "write to the child's go pipe",
            ProcessStep::ReadReport => "read the child's report pipe",
            ProcessStep::Clone => "clone3 (creating the container process)",
            ProcessStep::CloneIntoCgroup => {
                "clone3 into the container's cgroup (creating the container process)"
            }
            ProcessStep::SetUp => "container set-up",
            ProcessStep::UnknownStep => "container set-up (the child reported an unknown step)",
            ProcessStep::Signal => "pidfd_send_signal",
            ProcessStep::Waitpid => "waitpid",
            ProcessStep::CloneJoiner => "clone3 (the process that joins the container)",
            ProcessStep::PidfdJoined => "pidfd_open (the joined command)",
            ProcessStep::Join => "join the container",
            ProcessStep::ReadJoinedPid => "read the joined command's pid",
            ProcessStep::PremountOverlay => {
                "mount the container's overlay for its user namespace (fsopen/fsmount)"
            }
            ProcessStep::HooksStateMemfd => "memfd_create for the hooks' state",
            ProcessStep::OpenImageRoot => "open the image's root to look up --user",
            ProcessStep::JoinByPath => "join a namespace by path",
            ProcessStep::OpenNamespace => "open a namespace to join (linux.namespaces[].path)",
            ProcessStep::AwaitTimeNamespace => "wait for the child's time namespace",
            ProcessStep::EnterTimeNamespace => "let the child enter its time namespace",
        })
    }
}

/// What of a running container `vessel exec` opens to join it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinedFile {
    /// A file under `/proc/PID` (a namespace, the root).
    File(String),
    /// `/proc/PID/status`, read for the container's capabilities.
    Capabilities { proc_dir: String },
    /// `/proc/PID/status`, read for the container's seccomp mode.
    SeccompMode { proc_dir: String },
}

impl fmt::Display for JoinedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinedFile::File(path) => f.write_str(path),
            JoinedFile::Capabilities { proc_dir } => {
                write!(f, "{proc_dir}/status (the container's capabilities)")
            }
            JoinedFile::SeccompMode { proc_dir } => {
                write!(f, "{proc_dir}/status (the container's seccomp mode)")
            }
        }
    }
}
