//! What the kernel says about a pid: is it still the process we started? Has it gone?

use std::io;
use std::os::fd::AsRawFd;

/// The process's start time, in clock ticks since boot: field 22 of `/proc/PID/stat`.
/// Together with the pid it names one process for good, since a recycled pid gets a
/// later start time. `None` if the process does not exist.
pub fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and
/// may contain spaces and ')', so counting starts after the *last* ')'.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state) onwards; field 22 is the 20th of those.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is alive and is the process that started at `start_time`. A zombie
/// (exited, not yet reaped by its parent — an orphan waits for init to do it) is not
/// alive: it runs nothing any more.
pub fn is_same_process(pid: libc::pid_t, start: u64) -> bool {
    if pid <= 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    parse_start_time(&stat) == Some(start) && !matches!(parse_state(&stat), Some('Z' | 'X'))
}

/// Field 3 of a `/proc/PID/stat` line: `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead)….
pub fn parse_state(stat: &str) -> Option<char> {
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// Blocks until process `pid` has exited, waiting on a pidfd: no polling, and it works
/// for processes that are not our children (a container's shim, say). Returns at once if
/// there is no such process.
pub fn wait_until_gone(pid: libc::pid_t) -> io::Result<()> {
    wait_until_gone_within(pid, None).map(drop)
}

/// Like [`wait_until_gone`], for at most `timeout` (`None`: as long as it takes); true
/// if the process is gone. A zombie counts as gone: it exited, its parent has yet to reap it.
pub fn wait_until_gone_within(
    pid: libc::pid_t,
    timeout: Option<std::time::Duration>,
) -> io::Result<bool> {
    let pidfd = match crate::sys::pidfd::open(pid) {
        Ok(pidfd) => pidfd,
        Err(error) if error.raw_os_error() == Some(libc::ESRCH) => return Ok(true),
        Err(error) => return Err(error),
    };
    let millis = timeout.map_or(-1, |t| {
        libc::c_int::try_from(t.as_millis()).unwrap_or(libc::c_int::MAX)
    });
    let mut poll = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one live pollfd; a pidfd becomes readable when its process exits.
        match unsafe { libc::poll(&mut poll, 1, millis) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            -1 => return Err(io::Error::last_os_error()),
            0 => return Ok(false),
            _ => return Ok(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_a_process_that_is_gone_returns_at_once() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as libc::pid_t;
        child.wait().unwrap();
        wait_until_gone(pid).unwrap();
        wait_until_gone(i32::MAX).unwrap();
    }

    #[test]
    fn start_time_is_field_22_even_with_a_tricky_name() {
        let stat = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_state(stat), Some('S'));
    }

    #[test]
    fn a_zombie_is_not_the_same_process_any_more() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as libc::pid_t;
        let start = start_time(pid).expect("an unreaped child has a stat");
        wait_until_gone(pid).unwrap();
        // Exited but not reaped: its stat is still there, with the same start time.
        assert_eq!(start_time(pid), Some(start));
        assert!(!is_same_process(pid, start));
        child.wait().unwrap();
    }

    #[test]
    fn our_own_start_time_is_stable_and_a_dead_pid_has_none() {
        let me = std::process::id() as libc::pid_t;
        let first = start_time(me).expect("our own stat");
        assert!(is_same_process(me, first));
        assert!(!is_same_process(me, first + 1));
        assert_eq!(start_time(i32::MAX), None);
    }
}
