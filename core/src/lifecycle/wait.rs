//! `wait`: block until a container has exited, then say how.

use std::fs::File;

use super::error::Result;
use super::error::{LifecycleError, LifecycleStep};
use super::log::read_exit;
use super::pidfd::Pinned;
use super::settle::settle;
use crate::state::{Observed, Record, StateDir, Status};

/// Waits until the container `query` names has exited and its exit is recorded. Returns
/// the final record, or `None` if its supervisor removed it on exit (`--rm`) and how it
/// ended is not known.
pub fn wait(dir: &StateDir, query: &str) -> Result<Option<Record>> {
    let record = dir.find(query)?;
    // A detached container's record may go as it exits (`--rm`, or a `vessel rm -f`
    // racing this wait); its shim writes the exit to the log first. Opened now, the log
    // stays readable after its name is gone.
    let log = record.log.as_ref().and_then(|path| File::open(path).ok());
    // The supervisor outlives the container by the moment it takes to record the exit,
    // and `settle` waits for it; if it was killed, the container itself is what to
    // wait for.
    if matches!(record.observed(), Observed::Running | Observed::Created)
        && !record.shim_alive()
        && let Some(container) = Pinned::open(record.pid, record.pid_start_time)
    {
        container
            .wait_exit(None)
            .map_err(LifecycleError::io(LifecycleStep::PollExit))?;
    }
    Ok(match settle(dir, &record)? {
        Some(last) => Some(last),
        None => log
            .and_then(|log| read_exit(log).ok().flatten())
            .map(|exit| Record {
                status: Status::Exited,
                exit_code: Some(exit.exit_code),
                oom_killed: exit.oom_killed,
                finished: Some(exit.time),
                ..record
            }),
    })
}
