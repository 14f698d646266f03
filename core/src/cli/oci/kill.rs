//! `vessel kill ID [SIGNAL] [--all]` for a container made by `vessel create`: signal its
//! init (or, with `--all`, every process in its cgroup). A created container may be
//! killed too: its init dies without ever running the command.

use crate::error::Result;
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::state::OciStatus;
use crate::state::Record;
use crate::state::Root;

/// Sends `signal` to the container `id`'s init, or to all its processes.
pub fn kill(root: &Root, id: &str, signal: libc::c_int, all: bool) -> Result<i32> {
    let (_, record, status) = super::load(root, id)?;
    if status == OciStatus::Stopped {
        return Err(super::wrong_status(
            id,
            "kill",
            status,
            "container not running",
        ));
    }
    if all {
        signal_cgroup(&record, signal);
        return Ok(0);
    }
    let pinned =
        crate::lifecycle::Pinned::open(record.pid, record.pid_start_time).ok_or_else(|| {
            super::wrong_status(id, "kill", OciStatus::Stopped, "container not running")
        })?;
    pinned
        .signal(signal)
        .map_err(OciCommandError::io(OciStep::KillInit))?;
    Ok(0)
}

/// Signals every process listed in the container's cgroups (best effort: a process
/// may exit meanwhile).
pub fn signal_cgroup(record: &Record, signal: libc::c_int) {
    for dir in &record.cgroup_dirs {
        let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
            continue;
        };
        for pid in procs
            .lines()
            .filter_map(|l| l.trim().parse::<libc::pid_t>().ok())
        {
            // SAFETY: kill takes plain integers; the pid was in the container's cgroup.
            unsafe { libc::kill(pid, signal) };
        }
    }
}

/// The pids in the container's cgroup (its first directory that lists any).
pub fn pids(record: &Record) -> Vec<libc::pid_t> {
    record
        .cgroup_dirs
        .iter()
        .filter_map(|dir| std::fs::read_to_string(dir.join("cgroup.procs")).ok())
        .map(|text| {
            text.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<_>>()
        })
        .find(|pids| !pids.is_empty())
        .unwrap_or_else(|| vec![record.pid])
}
