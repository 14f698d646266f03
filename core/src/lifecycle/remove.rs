//! `rm`: a container that has exited goes, with everything it left on the host; with
//! `force`, a running one is killed first.

use super::cleanup::{clean_up, thaw};
use super::error::Result;
use super::error::{LifecycleError, LifecycleStep};
use super::pidfd::Pinned;
use super::settle::wait_for_supervisor;
use crate::state::{Observed, Record, StateDir, StateError};
use crate::sys::crash::hold_point;

// ANCHOR: remove
/// Removes the container `query` names: its cgroups, its layers, its log and its
/// record. A running (or still starting) container is refused unless `force`, which
/// kills it — and its supervisor, if the start is under way — first. Returns the
/// record as it was last.
pub fn remove(dir: &StateDir, query: &str, force: bool) -> Result<Record> {
    let record = dir.find(query)?;
    let observed = record.observed();
    if matches!(observed, Observed::Running | Observed::Created) && !force {
        return Err(StateError::StillRunning(record.id).into());
    }
    if observed == Observed::Created {
        // Its supervisor is between `clone` and recording the start: stop it there.
        // Once it has gone, nobody will record a start, so the record can only get
        // older, and anything the start left in the cgroup is killed by the clean-up.
        if let Some(shim) = Pinned::open(record.shim_pid, record.shim_start_time) {
            shim.signal(libc::SIGKILL)
                .map_err(LifecycleError::io(LifecycleStep::Sigkill))?;
            shim.wait_exit(None)
                .map_err(LifecycleError::io(LifecycleStep::PollExit))?;
        }
    }
    // Reload: the start may have been recorded meanwhile — or the process that forked
    // the shim saw it die and removed the record itself; then what the old record names
    // is still cleaned up below (every step of that is idempotent).
    let record = match dir.load(&record.id) {
        Ok(current) => current,
        Err(StateError::NoSuchContainer(_)) => record,
        Err(e) => return Err(e.into()),
    };
    // A commit killed while it held the container frozen left it so, and a frozen
    // process does not die of SIGKILL until it is thawed.
    record.cgroup_dirs.iter().for_each(|dir| thaw(dir));
    if let Some(container) = Pinned::open(record.pid, record.pid_start_time)
        .filter(|_| record.observed() == Observed::Running)
    {
        container
            .signal(libc::SIGKILL)
            .map_err(LifecycleError::io(LifecycleStep::Sigkill))?;
        container
            .wait_exit(None)
            .map_err(LifecycleError::io(LifecycleStep::PollExit))?;
    }
    hold_point("rm-killed");
    if force && let Some(shim) = Pinned::open(record.shim_pid, record.shim_start_time) {
        // `settle` waits for the supervisor to record the exit: one stopped with SIGSTOP
        // (or ^Z, for a foreground `vessel run`) would make that wait last for ever.
        let _ = shim.signal(libc::SIGCONT);
    }
    // The exit is not recorded here, only waited for: the record is about to go, and
    // removal must never need free space (a full store is when one removes things).
    wait_for_supervisor(&record)?;
    let last = match dir.load(&record.id) {
        Ok(current) => current,
        Err(StateError::NoSuchContainer(_)) => record,
        Err(e) => return Err(e.into()),
    };
    clean_up(dir, &last)?;
    Ok(last)
}
// ANCHOR_END: remove
