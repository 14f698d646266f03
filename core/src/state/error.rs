//! How reading or writing container state fails: a leaf file, so that the crate error
//! can wrap it without reaching the records themselves.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::id::ContainerId;

/// Shorthand for results of the run directory's work.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// A container state file (a record, the lock, a log) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The kernel refused a step on the file.
    #[error("container state {path:?}: {step}")]
    Io {
        path: PathBuf,
        step: StateStep,
        #[source]
        source: io::Error,
    },
    /// A record that is not JSON this vessel reads (edited by hand, or written by
    /// another version): commands leave it out rather than fail.
    #[error("container state {path:?}: parse")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A record that could not be turned into JSON.
    #[error("container state {path:?}: serialize")]
    Unwritable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A container named on the command line is not known.
    #[error("no container {0:?} (see `vessel ps -a` for ids and names)")]
    NoSuchContainer(String),
    /// An id prefix names more than one container.
    #[error("{query:?} matches more than one container ({ids}): give more of the id, or the name")]
    AmbiguousContainer { query: String, ids: String },
    /// A container name `--name` cannot take.
    #[error(
        "--name {0:?}: a name is 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    )]
    InvalidName(String),
    /// `--name` is already used by another container.
    #[error(
        "the name {0:?} is already used by another container (choose another --name, or \
         remove that one first: `vessel rm -f {0}`)"
    )]
    NameTaken(String),
    /// A lifecycle event the state machine has no edge for.
    #[error("container {id}: cannot {event} a container that is {from}")]
    InvalidTransition {
        id: ContainerId,
        from: String,
        event: &'static str,
    },
    /// `vessel rm` without `-f` on a running container.
    #[error("container {0} is running: stop it first (`vessel stop {0}`), or use `vessel rm -f`")]
    StillRunning(ContainerId),
}

impl StateError {
    /// `step` on `path` failed with `source`.
    pub fn io(path: impl Into<PathBuf>, step: StateStep) -> impl FnOnce(io::Error) -> StateError {
        let path = path.into();
        move |source| StateError::Io { path, step, source }
    }
}

/// What was being done with a state file when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateStep {
    /// Making the run directory.
    CreateRunDir,
    /// Opening the run directory's `.lock`.
    OpenLock,
    /// `flock` on it.
    Lock,
    /// Creating a record whose id already has one.
    CreateTaken,
    /// Listing the run directory.
    List,
    /// Opening a file.
    Open,
    /// Reading a file.
    Read,
    /// Writing a file.
    Write,
    /// Removing a file.
    Remove,
    /// Creating a detached container's log.
    CreateLog,
    /// Watching a log for new lines (`vessel logs -f`).
    Watch,
    /// Waiting for a log to grow or its writer to go.
    WaitFor,
    /// Seeking in a log.
    Seek,
    /// Printing a log's lines.
    Print,
}

impl fmt::Display for StateStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateStep::CreateRunDir => {
                "create the run directory (set VESSEL_RUN_DIR to a writable directory)"
            }
            StateStep::OpenLock => "open the lock file",
            StateStep::Lock => "lock",
            StateStep::CreateTaken => "create (the id is taken)",
            StateStep::List => "list",
            StateStep::Open => "open",
            StateStep::Read => "read",
            StateStep::Write => "write",
            StateStep::Remove => "remove",
            StateStep::CreateLog => "create the log",
            StateStep::Watch => "watch",
            StateStep::WaitFor => "wait for",
            StateStep::Seek => "seek",
            StateStep::Print => "print",
        })
    }
}
