//! `stop`: ask politely with SIGTERM, insist with SIGKILL after a timeout.

use std::fmt;
use std::time::Duration;

use super::error::Result;
use super::error::{LifecycleError, LifecycleStep};
use super::pidfd::Pinned;
use super::settle::settle;
use crate::process::error::ProcessError;
use crate::state::{Observed, Record, StateDir};

/// What ended a container that `stop` was asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// It was not running any more.
    AlreadyExited,
    /// It exited within the timeout after SIGTERM.
    Sigterm,
    /// It ignored SIGTERM for the whole timeout; SIGKILL ended it.
    Sigkill,
}

impl fmt::Display for EndedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndedBy::AlreadyExited => "it had already exited",
            EndedBy::Sigterm => "SIGTERM ended it",
            EndedBy::Sigkill => "it ignored SIGTERM; SIGKILL ended it after the timeout",
        })
    }
}

/// The result of `stop`.
#[derive(Debug, Clone)]
pub struct Stopped {
    /// The container's id.
    pub id: crate::state::ContainerId,
    /// Which signal ended it.
    pub ended_by: EndedBy,
    /// Its record afterwards (`None` if its supervisor removed it: `--rm`).
    pub record: Option<Record>,
}

// ANCHOR: stop
/// Stops the container `query` names (id, unique id prefix or name): SIGTERM, then
/// SIGKILL if it is still running after `timeout`. Waits on the container's pidfd — no
/// polling — and returns once its supervisor has recorded the exit.
pub fn stop(dir: &StateDir, query: &str, timeout: Duration) -> Result<Stopped> {
    let record = dir.find(query)?;
    if record.observed() == Observed::Created {
        return Err(ProcessError::NotRunning {
            id: record.id.to_string(),
            status: "still starting".to_owned(),
        }
        .into());
    }
    let ended_by = match Pinned::open(record.pid, record.pid_start_time)
        .filter(|_| record.observed() == Observed::Running)
    {
        None => EndedBy::AlreadyExited,
        Some(container) => {
            container
                .signal(libc::SIGTERM)
                .map_err(LifecycleError::io(LifecycleStep::Sigterm))?;
            if container
                .wait_exit(Some(timeout))
                .map_err(LifecycleError::io(LifecycleStep::PollExit))?
            {
                EndedBy::Sigterm
            } else {
                container
                    .signal(libc::SIGKILL)
                    .map_err(LifecycleError::io(LifecycleStep::Sigkill))?;
                container
                    .wait_exit(None)
                    .map_err(LifecycleError::io(LifecycleStep::PollExit))?;
                EndedBy::Sigkill
            }
        }
    };
    Ok(Stopped {
        id: record.id.clone(),
        ended_by,
        record: settle(dir, &record)?,
    })
}
// ANCHOR_END: stop

/// Sends `signal` to the container's first process (`vessel kill`).
pub fn kill(dir: &StateDir, query: &str, signal: libc::c_int) -> Result<Record> {
    let record = dir.find(query)?;
    let not_running = || -> LifecycleError {
        ProcessError::NotRunning {
            id: record.id.to_string(),
            status: record.observed_status(),
        }
        .into()
    };
    if record.observed() != Observed::Running {
        return Err(not_running());
    }
    let container = Pinned::open(record.pid, record.pid_start_time).ok_or_else(not_running)?;
    container
        .signal(signal)
        .map_err(LifecycleError::io(LifecycleStep::Signal))?;
    Ok(record)
}
