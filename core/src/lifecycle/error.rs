//! How a lifecycle step on a container's processes fails: its own steps, a start, and
//! the state, process, cgroup, network, image, rootfs and init errors that pass through
//! (and where a warning that is no failure goes). A leaf file, so that the
//! crate error can wrap it without reaching the lifecycle code.

use std::fmt;
use std::io;

use crate::network::error::NetworkError;
use crate::process::error::ProcessError;
use crate::state::ContainerId;
use crate::state::error::StateError;

/// Shorthand for results in lifecycle/.
pub type Result<T, E = LifecycleError> = std::result::Result<T, E>;

/// Where the library's warnings go: what the caller should hear of but is no reason to
/// fail (a note about the host, a clean-up that failed). The CLI prints them on stderr.
pub type Warn = fn(&str);

/// Why `run` (in the foreground or detached), `stop`, `kill`, `rm`, `wait` or `logs`
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The kernel refused a step.
    #[error("{step}")]
    Io {
        /// What was being done.
        step: LifecycleStep,
        #[source]
        source: io::Error,
    },

    /// Detaching forks, which needs a single-threaded caller.
    #[error(
        "starting a detached container forks its shim, which needs a single-threaded caller (this process has {0} threads): detach from the main thread, before starting any"
    )]
    MultiThreaded(usize),

    /// `vessel logs` on a container that has no log.
    #[error(
        "container {0} has no log: it ran in the foreground, so its output went to the terminal (use `vessel run -d` to keep a log)"
    )]
    NoLog(ContainerId),

    /// The shim of `vessel run -d` could not start the container; `message` is the
    /// shim's whole error chain, `code` the exit code it maps to.
    #[error("{message}")]
    Detached { message: String, code: i32 },

    /// Image layers were asked for together with a user namespace.
    #[error(
        "--image {0}: image layers in a user namespace need root to mount them (run as root, or use --rootfs DIR)"
    )]
    UserNamespaceWithImage(String),

    /// The container state directory could not be used, or refused what was asked.
    #[error(transparent)]
    State(#[from] StateError),

    /// Starting, joining or waiting for the container's process failed (boxed, like
    /// [`LifecycleError::Network`], to keep every result small).
    #[error(transparent)]
    Process(Box<ProcessError>),

    /// The container's cgroup could not be placed, read or removed.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::error::CgroupError),

    /// The container's network could not be released.
    #[error(transparent)]
    Network(Box<NetworkError>),

    /// The container's layers could not be used or removed.
    #[error(transparent)]
    Image(#[from] crate::image::error::ImageError),

    /// The default rootfs a rootless container runs on could not be built.
    #[error(transparent)]
    RootfsBuild(#[from] crate::rootfs::error::RootfsBuildError),

    /// A volume (`-v`, or an image's `VOLUME`) cannot be mounted as asked.
    #[error(transparent)]
    MountSpec(#[from] crate::rootfs::error::MountSpecError),

    /// `--init`: the init binary could not be put where containers can mount it.
    #[error(transparent)]
    Init(#[from] crate::init::error::InitError),
}

impl From<ProcessError> for LifecycleError {
    fn from(error: ProcessError) -> LifecycleError {
        LifecycleError::Process(Box::new(error))
    }
}

impl From<NetworkError> for LifecycleError {
    fn from(error: NetworkError) -> LifecycleError {
        LifecycleError::Network(Box::new(error))
    }
}

impl LifecycleError {
    /// `step` failed with `source`.
    pub fn io(step: LifecycleStep) -> impl FnOnce(io::Error) -> LifecycleError {
        move |source| LifecycleError::Io { step, source }
    }

    /// The exit code `vessel run` uses for this error (see `Error::exit_code`).
    pub fn exit_code(&self) -> i32 {
        match self {
            LifecycleError::Detached { code, .. } => *code,
            LifecycleError::Process(error) => error.exit_code(),
            _ => 125,
        }
    }
}

/// What was being done with a container's processes when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleStep {
    /// `pidfd_send_signal` of the signal `vessel kill` was asked for.
    Signal,
    /// `pidfd_send_signal SIGTERM` (`stop`'s polite ask).
    Sigterm,
    /// `pidfd_send_signal SIGKILL`.
    Sigkill,
    /// `poll` of a pidfd for its process's exit.
    PollExit,
    /// `poll` of the supervisor's pidfd.
    PollSupervisor,
    /// `fork` of the container's shim.
    ForkShim,
    /// Opening `/dev/null` for the shim's stdio.
    OpenDevNull,
    /// Blocking the signals `vessel run` forwards to its container.
    BlockForwarded,
    /// A signalfd for them.
    WatchForwarded,
    /// `poll` of it.
    PollForwarded,
}

impl fmt::Display for LifecycleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LifecycleStep::Signal => "pidfd_send_signal",
            LifecycleStep::Sigterm => "pidfd_send_signal SIGTERM",
            LifecycleStep::Sigkill => "pidfd_send_signal SIGKILL",
            LifecycleStep::PollExit => "poll",
            LifecycleStep::PollSupervisor => "poll the supervisor's pidfd",
            LifecycleStep::ForkShim => "fork (the container's shim)",
            LifecycleStep::OpenDevNull => "open /dev/null",
            LifecycleStep::BlockForwarded => "sigprocmask",
            LifecycleStep::WatchForwarded => "signalfd",
            LifecycleStep::PollForwarded => "poll",
        })
    }
}
