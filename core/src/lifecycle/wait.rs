//! `wait`: block until a container has exited, then say how.

use super::pidfd::Pinned;
use super::settle::{settle, wait_for_supervisor};
use super::stop::sys;
use crate::error::Result;
use crate::state::{Observed, Record, StateDir};

/// Waits until the container `query` names has exited and its exit is recorded. Returns
/// the final record, or `None` if its supervisor removed it on exit (`--rm`).
pub fn wait(dir: &StateDir, query: &str) -> Result<Option<Record>> {
    let record = dir.find(query)?;
    if matches!(record.observed(), Observed::Running | Observed::Created) {
        // The supervisor outlives the container by the moment it takes to record the
        // exit; if it was killed, the container itself is what to wait for.
        if record.shim_alive() {
            wait_for_supervisor(&record)?;
        } else if let Some(container) = Pinned::open(record.pid, record.pid_start_time) {
            container.wait_exit(None).map_err(sys("poll"))?;
        }
    }
    settle(dir, &record)
}
