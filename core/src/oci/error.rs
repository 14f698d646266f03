//! How reading a bundle, or the state of a container `vessel create` made, fails. A
//! leaf: the crate error wraps these, so this file imports nothing of the crate but the
//! id (itself a leaf); a hook's failure travels boxed, for the same reason.

use std::io;
use std::path::PathBuf;

use crate::state::ContainerId;

/// Why a bundle cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `config.json` is missing or not valid OCI runtime configuration.
    #[error("read config.json (check the bundle holds an OCI runtime config)")]
    Config(#[source] oci_spec::OciSpecError),
    /// A required field is absent.
    #[error("config.json has no {0}")]
    Missing(&'static str),
    /// A field vessel does not support has a value it cannot honour.
    #[error("{field}: {why}")]
    Unsupported { field: String, why: String },
    /// A lifecycle hook failed; the container was stopped (or never started). The cause
    /// is a [`HookError`](super::HookError).
    #[error(transparent)]
    Hook(Box<dyn std::error::Error + Send + Sync>),
}

/// A field vessel refuses, and why.
pub(crate) fn unsupported(field: impl Into<String>, why: impl Into<String>) -> BundleError {
    BundleError::Unsupported {
        field: field.into(),
        why: why.into(),
    }
}

/// Why the OCI state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OciStateError {
    /// No container has this id.
    #[error("container \"{0}\" does not exist (`vessel list` shows the ones that do)")]
    NotFound(ContainerId),
    /// A container with this id exists already.
    #[error("container \"{0}\" exists already (delete it first, or choose another id)")]
    Exists(ContainerId),
    /// A file of the state could not be read or written.
    #[error("{step} {path}")]
    Io {
        step: OciStateStep,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A container's state is not JSON this vessel reads.
    #[error("parse {path}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// What was being done with a file of the OCI state when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciStateStep {
    /// Creating a directory.
    Create,
    /// Making the exec fifo.
    Mkfifo,
    /// Writing a scratch file.
    Write,
    /// Renaming it over the state.
    RenameInto,
    /// Reading the state.
    Read,
    /// Removing a container's directory.
    Remove,
}

impl std::fmt::Display for OciStateStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OciStateStep::Create => "create",
            OciStateStep::Mkfifo => "mkfifo",
            OciStateStep::Write => "write",
            OciStateStep::RenameInto => "rename into",
            OciStateStep::Read => "read",
            OciStateStep::Remove => "remove",
        })
    }
}

/// A step of an OCI runtime command (`create`, `start`, `kill`, `delete`, `exec`,
/// `update`, `spec`) that the kernel refused.
#[derive(Debug, thiserror::Error)]
#[error("{step}")]
pub struct OciCommandError {
    /// What was being done.
    pub step: OciStep,
    #[source]
    pub source: io::Error,
}

impl OciCommandError {
    /// `step` failed with `source`.
    pub fn io(step: OciStep) -> impl FnOnce(io::Error) -> OciCommandError {
        move |source| OciCommandError { step, source }
    }
}

/// What an OCI runtime command was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciStep {
    /// Making the bundle path absolute.
    FindBundle,
    /// Connecting to `--console-socket`.
    ConnectConsoleSocket,
    /// Reading `exec --process`.
    ReadProcess,
    /// Reading `update --resources`.
    ReadResources,
    /// Writing `process.oomScoreAdj`.
    WriteOomScoreAdj,
    /// Writing `--pid-file`.
    WritePidFile,
    /// Opening the exec fifo (`create`).
    OpenExecFifo,
    /// Opening it to release the init (`start`).
    OpenExecFifoToStart,
    /// Removing it.
    RemoveExecFifo,
    /// Writing the byte that releases the init.
    WriteExecFifo,
    /// Making the fifo the init's start reply comes back through.
    MakeReplyFifo,
    /// Opening it.
    OpenReplyFifo,
    /// Making it blocking once open.
    MakeReplyFifoBlocking,
    /// `pidfd_send_signal` to the container's init (`kill`).
    KillInit,
    /// Waiting for the init to die (`delete --force`).
    AwaitInitDeath,
    /// Removing the container's cgroup (`delete`).
    RemoveCgroup,
    /// Writing `config.json` (`spec`).
    WriteConfig,
}

impl std::fmt::Display for OciStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OciStep::FindBundle => "find the bundle directory",
            OciStep::ConnectConsoleSocket => "connect to the --console-socket",
            OciStep::ReadProcess => "read --process",
            OciStep::ReadResources => "read --resources",
            OciStep::WriteOomScoreAdj => "write process.oomScoreAdj to /proc/PID/oom_score_adj",
            OciStep::WritePidFile => "write the --pid-file",
            OciStep::OpenExecFifo => "open the exec fifo",
            OciStep::OpenExecFifoToStart => {
                "open the exec fifo (is the container's init still waiting?)"
            }
            OciStep::RemoveExecFifo => "remove the exec fifo",
            OciStep::WriteExecFifo => "write to the exec fifo",
            OciStep::MakeReplyFifo => "make the start reply fifo",
            OciStep::OpenReplyFifo => "open the start reply fifo",
            OciStep::MakeReplyFifoBlocking => "make the start reply fifo blocking",
            OciStep::KillInit => "pidfd_send_signal (kill the container's init)",
            OciStep::AwaitInitDeath => "wait for the container's init to die",
            OciStep::RemoveCgroup => "remove the container's cgroup",
            OciStep::WriteConfig => "write config.json",
        })
    }
}
