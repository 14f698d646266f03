//! Killing every process in a cgroup without ever hitting a stranger.
//!
//! A pid read from `cgroup.procs` may belong to another process by the time we signal
//! it. So: open a pidfd for each listed pid (pinning *that* process), read the list again,
//! and signal only the pidfds whose pid is still listed — a pid in the second list is in
//! our cgroup, and a pidfd opened before it can only name that process or one already
//! dead. Then wait on each pidfd until the process has exited, and repeat until the list
//! is empty (a process may have forked in between).
//!
//! cgroup v2 on Linux 5.14+ has `cgroup.kill`, which does all of this in the kernel.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::error::{CgroupError, CgroupStep, Lack, Result};
use super::files;
use crate::sys::pidfd;

/// Rounds before giving up on a cgroup that keeps refilling (a fork bomb outrunning us
/// would need to fork faster than SIGKILL lands, which the pids limit prevents).
const ROUNDS: usize = 1000;

// ANCHOR: kill_all
/// Sends SIGKILL to every process in the cgroup whose `cgroup.procs` is `procs`, and
/// returns once they have all exited.
pub fn kill_all(procs: &Path) -> Result<()> {
    for _ in 0..ROUNDS {
        let listed = files::read_pids(procs)?;
        if listed.is_empty() {
            return Ok(());
        }
        let pinned: Vec<(libc::pid_t, OwnedFd)> = listed
            .into_iter()
            .filter_map(|pid| pidfd::open(pid).ok().map(|fd| (pid, fd))) // ESRCH: already gone
            .collect();
        let still_listed = files::read_pids(procs)?;
        for (pid, pidfd) in &pinned {
            if still_listed.contains(pid) && send_sigkill(pidfd) {
                wait_exit(pidfd)?;
            }
        }
    }
    Err(CgroupError::lacking(
        CgroupStep::KillAll(procs.to_owned()),
        Lack::ProcessesRemain { rounds: ROUNDS },
    ))
}
// ANCHOR_END: kill_all

fn send_sigkill(pidfd: &OwnedFd) -> bool {
    pidfd::send_signal(pidfd.as_fd(), libc::SIGKILL).is_ok()
}

/// A pidfd polls readable once its process has exited (and left its cgroup).
fn wait_exit(pidfd: &OwnedFd) -> Result<()> {
    loop {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(nix::Error::EINTR) => continue,
            Err(e) => {
                return Err(CgroupError::io(CgroupStep::WaitKilled)(e.into()));
            }
        }
    }
}
