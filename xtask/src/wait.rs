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
        // A child that leads a process group of its own (GNU time for the peak RSS) goes
        // with everything it started; for any other there is no such group (ESRCH).
        let group = -(child.id() as libc::pid_t);
        // SAFETY: kill has no memory preconditions; a negative pid names the group our
        // unreaped child leads, if it leads one.
        unsafe { libc::kill(group, libc::SIGKILL) };
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

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    use super::*;

    /// A hung start under GNU time (which leads a process group of its own) once left
    /// the runtime under it running when only time was killed.
    #[test]
    fn a_hung_group_leader_goes_with_what_it_started() {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 1000 & echo $!; wait"])
            .process_group(0)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let sleeper: libc::pid_t = line.trim().parse().unwrap();
        let outcome = with_timeout(child, Duration::from_millis(1)).unwrap();
        assert!(matches!(outcome, Outcome::Hung), "{outcome:?}");
        // Killed: its pidfd turns readable when it exits (the bound only keeps a broken
        // kill from hanging the test).
        // SAFETY: pidfd_open takes a pid and flags; the sleeper is not reaped before we
        // open it (its parent, sh, was killed, so init reaps it, after it exits).
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, sleeper, 0) };
        if fd < 0 {
            return; // already gone and reaped
        }
        // SAFETY: the kernel just gave us this descriptor; nothing else owns it.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, 10_000) };
        assert_eq!(ready, 1, "sleep {sleeper} outlived the hung start");
    }
}
