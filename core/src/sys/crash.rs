//! Named points where a test can stop vessel dead, to check that recovery tells the
//! truth and cleans up whatever moment a `kill -9` strikes.
//!
//! With `VESSEL_TEST_HOLD=POINT:FD` in the environment, the process that reaches `POINT`
//! writes its pid and a newline to descriptor `FD` and then waits for ever: the test
//! reads the pid from its pipe (no sleep, no race) and sends `SIGKILL`. Without the
//! variable a point costs one environment lookup; it is only on the detached and
//! removal paths and the recording of a foreground start.
//!
//! The points, in the order a container meets them:
//!
//! | point | process | moment |
//! |---|---|---|
//! | `run-recorded` | `vessel run` | the record exists, nothing else does yet |
//! | `shim-supervised` | the shim | it took charge of the record, before the start |
//! | `net-leased` | `vessel run` | bridge mode: its address is leased, no veth yet |
//! | `net-attached` | the supervisor | its veth and port rules exist, the container's process does not hold the address yet |
//! | `run-cloned` | the supervisor | the container's pid is recorded; it waits for "go" |
//! | `run-spawned` | the supervisor | the container runs (exec done), start not recorded |
//! | `run-started` | the supervisor | the start is recorded (shim: before telling the CLI) |
//! | `shim-exited` | the supervisor | the container is reaped, its exit not yet recorded |
//! | `commit-frozen` | `vessel commit` | the container is frozen, nothing packed yet |
//! | `rm-killed` | `vessel rm -f` | the container is killed, nothing removed yet |

use std::io::Write;
use std::os::fd::FromRawFd;

/// The environment variable naming the point to hold at and the descriptor to report to.
pub const HOLD_ENV: &str = "VESSEL_TEST_HOLD";

/// Holds here if the test asked for `point`.
pub fn hold_point(point: &str) {
    let Ok(wanted) = std::env::var(HOLD_ENV) else {
        return;
    };
    let Some((name, fd)) = wanted.split_once(':') else {
        return;
    };
    let Ok(fd) = fd.parse::<libc::c_int>() else {
        return;
    };
    if name != point {
        return;
    }
    // SAFETY: the test handed us `fd` for exactly this; we write to it once and keep
    // it open (ManuallyDrop) so its owner's view of it does not change.
    let mut report = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let _ = writeln!(report, "{}", std::process::id());
    loop {
        // SAFETY: pause has no preconditions; it returns only when a handled signal
        // arrives, and the test sends SIGKILL, which is never handled.
        unsafe { libc::pause() };
    }
}
