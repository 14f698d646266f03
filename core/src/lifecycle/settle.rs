//! Making a record tell the truth once its container's process is gone.

use super::error::Result;
use super::error::{LifecycleError, LifecycleStep};
use super::pidfd::Pinned;
use crate::state::{Event, Record, StateDir, StateError, Status};

/// After the container's first process has exited (or never started): waits for its
/// supervisor to record the exit and go, then, if the supervisor died without recording
/// it (it was killed), records "exited, code unknown" itself. Returns the final record,
/// or `None` if the supervisor removed it (`--rm`).
pub fn settle(dir: &StateDir, record: &Record) -> Result<Option<Record>> {
    wait_for_supervisor(record)?;
    let current = match dir.load(&record.id) {
        Ok(current) => current,
        Err(StateError::NoSuchContainer(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if current.status == Status::Exited {
        return Ok(Some(current));
    }
    let exited = Event::Exited {
        exit_code: None,
        oom_killed: false,
    };
    match dir.apply(&record.id, exited) {
        Ok(record) => Ok(Some(record)),
        Err(StateError::NoSuchContainer(_)) => Ok(None),
        // Someone else recorded the exit in between: theirs stands.
        Err(StateError::InvalidTransition { .. }) => Ok(Some(dir.load(&record.id)?)),
        Err(e) => Err(e.into()),
    }
}

/// Blocks until the record's supervisor has exited (at once if it is gone, or if it is
/// this very process).
pub fn wait_for_supervisor(record: &Record) -> Result<()> {
    if record.shim_pid == std::process::id() as libc::pid_t {
        return Ok(());
    }
    if let Some(shim) = Pinned::open(record.shim_pid, record.shim_start_time) {
        shim.wait_exit(None)
            .map_err(LifecycleError::io(LifecycleStep::PollSupervisor))?;
    }
    Ok(())
}
