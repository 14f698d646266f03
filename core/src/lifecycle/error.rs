//! How a lifecycle step on a container's processes fails: a leaf file, so that the
//! crate error can wrap it without reaching the lifecycle code.

use std::fmt;
use std::io;

/// The kernel refused a step of `stop`, `kill`, `rm`, `wait` or a detached start.
#[derive(Debug, thiserror::Error)]
#[error("{step}")]
pub struct LifecycleError {
    /// What was being done.
    pub step: LifecycleStep,
    #[source]
    pub source: io::Error,
}

impl LifecycleError {
    /// `step` failed with `source`.
    pub fn io(step: LifecycleStep) -> impl FnOnce(io::Error) -> LifecycleError {
        move |source| LifecycleError { step, source }
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
