//! Waiting for a child process with a time limit, on its pidfd: no polling loop, no
//! extra process, so the measured time is the child's own.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, ExitStatus};
use std::time::Duration;

/// How a timed wait ended.
#[derive(Debug)]
pub enum Outcome {
    /// The child exited; its status and what it wrote to stderr (if piped).
    Exited(ExitStatus, String),
    /// The time ran out; the child was killed and reaped.
    Hung,
}

/// Waits for `child` at most `timeout`; kills it if it is still running then.
pub fn with_timeout(mut child: Child, timeout: Duration) -> Result<Outcome, String> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; the
    // pid is our unreaped child, so it cannot have been recycled.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id(), 0) };
    if fd < 0 {
        return Err(format!("pidfd_open: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the kernel just gave us this descriptor; nothing else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut poll = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd; the pidfd turns readable when the child exits.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    if ready == 0 {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(Outcome::Hung);
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    Ok(Outcome::Exited(status, stderr))
}
