//! A process pinned by a pidfd: signalled and waited for without ever hitting a
//! stranger that inherited its pid.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::state::process;

/// One process, pinned: once the pidfd is open the pid cannot name anyone else for us.
#[derive(Debug)]
pub struct Pinned {
    fd: OwnedFd,
}

impl Pinned {
    // ANCHOR: pin
    /// Opens a pidfd for `pid` and checks that it is still the process that started at
    /// `start_time`. The check comes *after* the open: a pid recycled before the open
    /// fails the check, and one that dies after it leaves the pidfd naming a dead
    /// process, never a new one. `None` if the process is gone.
    pub fn open(pid: libc::pid_t, start_time: u64) -> Option<Pinned> {
        if pid <= 0 {
            return None;
        }
        let fd = crate::sys::pidfd::open(pid).ok()?;
        process::is_same_process(pid, start_time).then_some(Pinned { fd })
    }
    // ANCHOR_END: pin

    /// Sends `signal`; a process that has just exited is not an error.
    pub fn signal(&self, signal: libc::c_int) -> io::Result<()> {
        match crate::sys::pidfd::send_signal(self.fd.as_fd(), signal) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            result => result,
        }
    }

    /// Waits until the process exits, at most `timeout` (`None`, or one too long to
    /// reach, like `stop -t 18446744073709551615`: for ever). Returns whether it
    /// exited. The pidfd turns readable at the exit: one `poll`, no polling.
    pub fn wait_exit(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let millis = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // Round up, so a wait never ends a moment before its deadline.
                    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
                }
            };
            let mut poll = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd; a pidfd becomes readable when its process exits.
            match unsafe { libc::poll(&mut poll, 1, millis) } {
                -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                -1 => return Err(io::Error::last_os_error()),
                0 if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(false),
                0 => {}
                _ => return Ok(true),
            }
        }
    }
}

impl std::os::fd::AsRawFd for Pinned {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_too_long_for_the_clock_waits_for_the_exit() {
        // `cat` runs until its stdin closes: pinned while it surely runs.
        let mut child = std::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        let pinned = Pinned::open(pid, process::start_time(pid).unwrap()).unwrap();
        drop(child.stdin.take());
        assert!(pinned.wait_exit(Some(Duration::MAX)).unwrap());
        child.wait().unwrap();
    }
}
