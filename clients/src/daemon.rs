//! Stopping a client daemon (containerd, dockerd) a harness started: SIGTERM, a bounded
//! wait for it to shut down cleanly, then SIGKILL. A daemon stuck in its shutdown (a shim
//! that never answers) must not hang the test run.

use std::process::Child;
use std::time::Duration;

/// How long a daemon gets to shut down after SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Stops `daemon`: SIGTERM, at most `grace` to exit, then SIGKILL; reaps it. Returns
/// whether it had to be killed.
pub fn stop(daemon: &mut Child, grace: Duration) -> bool {
    let pid = daemon.id() as libc::pid_t;
    // SAFETY: kill takes plain integers; the daemon is our child, not yet reaped, so the
    // pid still names it.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let exited = vessel::state::process::wait_until_gone_within(pid, Some(grace)).unwrap_or(false);
    if !exited {
        eprintln!("vessel-clients: daemon {pid} still runs {grace:?} after SIGTERM; killing it");
        let _ = daemon.kill();
    }
    let _ = daemon.wait();
    !exited
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_daemon_that_ignores_sigterm_is_killed_after_the_grace() {
        // `trap '' TERM` makes the shell ignore SIGTERM; `read` waits forever on a pipe.
        let mut daemon = Command::new("/bin/sh")
            .args(["-c", "trap '' TERM; echo ready; read never"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        // On a thread, so that a stop that waits unbounded fails the test, not hangs it.
        let (done, stopped) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(stop(&mut daemon, Duration::from_millis(300)));
        });
        let killed = stopped
            .recv_timeout(Duration::from_secs(30))
            .expect("stop still waits 30 s after a grace of 300 ms");
        assert!(killed, "it was not killed");
    }

    #[test]
    fn a_daemon_that_stops_on_sigterm_is_not_killed() {
        let mut daemon = Command::new("/bin/sh")
            .args(["-c", "echo ready; exec cat"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        assert!(!stop(&mut daemon, SHUTDOWN_GRACE), "it was killed");
    }
}
