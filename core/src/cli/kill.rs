//! `vessel kill`: signal a detached container's first process.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use clap::Args;
use nix::sys::signal::Signal;

use crate::error::{Error, Result};
use crate::state::{StateDir, process};

/// Arguments of `vessel kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal, by name (`TERM`, `SIGTERM`) or number [default: KILL].
    #[arg(short = 's', long, value_name = "SIGNAL", default_value = "KILL", value_parser = parse_signal)]
    pub signal: Signal,
    /// The container's id, id prefix or name.
    pub container: String,
}

fn parse_signal(text: &str) -> std::result::Result<Signal, String> {
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| format!("{number}: no such signal number"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().map_err(|_| {
        format!("{text:?}: no such signal (use a name like TERM or KILL, or a number)")
    })
}

// ANCHOR: kill
/// Sends the signal through a pidfd, after checking the pid is still the container's:
/// once the pidfd is open, the pid cannot be recycled under us.
pub fn kill(args: KillArgs) -> Result<i32> {
    let record = StateDir::open()?.find(&args.container)?;
    let not_running = || Error::NotRunning {
        id: record.id.clone(),
        status: record.observed_status(),
    };
    if !record.is_running() {
        return Err(not_running());
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, record.pid, 0) };
    if fd == -1 {
        return Err(not_running());
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
    if !process::is_same_process(record.pid, record.pid_start_time) {
        return Err(not_running());
    }
    // SAFETY: `pidfd` is open; a null siginfo means "as kill(2) would send"; flags 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            args.signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret == -1 {
        return Err(Error::last_os("pidfd_send_signal"));
    }
    println!("{}", record.id);
    Ok(0)
}
// ANCHOR_END: kill
