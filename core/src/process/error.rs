//! How the parent's side of a start or an exec fails at one of its own steps (the
//! child's failing steps travel as `Error::Step`, its hooks as [`ProcessError::Hook`]):
//! a leaf file, so that the crate error can wrap it without reaching the process code.

use std::fmt;
use std::io;

use super::exit::ExitStatus;

/// A step the parent takes to start, join, signal or wait for a container's process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
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
