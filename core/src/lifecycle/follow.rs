//! `logs`: print a detached container's log, and with `follow` keep printing as the
//! shim appends, until the shim (and so the container) is gone.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::error::{LifecycleError, Result};
use super::log::{LogLine, read_lines, tail};
use super::pidfd::Pinned;
use crate::state::{StateDir, StateError, StateStep};

/// Calls `emit` with the last `last` lines of the container's log (all for `None`);
/// with `follow`, then with each new line until the container's shim exits. `emit`
/// ends it early by returning `ControlFlow::Break`.
pub fn logs(
    dir: &StateDir,
    query: &str,
    last: Option<usize>,
    follow: bool,
    mut emit: impl FnMut(&LogLine) -> io::Result<ControlFlow<()>>,
) -> Result<()> {
    let record = dir.find(query)?;
    let Some(path) = record.log.clone() else {
        return Err(LifecycleError::NoLog(record.id));
    };
    let state_error = |step, source| LifecycleError::from(StateError::io(&path, step)(source));
    let shim = follow
        .then(|| Pinned::open(record.shim_pid, record.shim_start_time))
        .flatten();
    // The watch exists before the first read, so no line written after it is missed.
    let watch = shim
        .as_ref()
        .map(|_| Inotify::watch(&path))
        .transpose()
        .map_err(|e| state_error(StateStep::Watch, e))?;
    let mut file = File::open(&path).map_err(|e| state_error(StateStep::Open, e))?;
    let (lines, mut offset) = read_lines(&file).map_err(|e| state_error(StateStep::Read, e))?;
    for line in tail(lines, last) {
        if emit(&line)
            .map_err(|e| state_error(StateStep::Print, e))?
            .is_break()
        {
            return Ok(());
        }
    }
    let (Some(shim), Some(watch)) = (shim, watch) else {
        return Ok(());
    };
    loop {
        let shim_gone =
            wait_either(&watch, &shim).map_err(|e| state_error(StateStep::WaitFor, e))?;
        watch.drain();
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| state_error(StateStep::Seek, e))?;
        let (lines, consumed) = read_lines(&file).map_err(|e| state_error(StateStep::Read, e))?;
        offset += consumed;
        for line in lines {
            if emit(&line)
                .map_err(|e| state_error(StateStep::Print, e))?
                .is_break()
            {
                return Ok(());
            }
        }
        if shim_gone {
            return Ok(());
        }
    }
}

/// Blocks until the log changes or the shim exits; returns whether the shim exited.
fn wait_either(watch: &Inotify, shim: &Pinned) -> io::Result<bool> {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: watch.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: shim.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two live pollfds, an inotify descriptor and a pidfd we own.
        match unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            -1 => return Err(io::Error::last_os_error()),
            _ => return Ok(fds[1].revents != 0),
        }
    }
}

/// An inotify instance watching one file for writes.
struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    fn watch(path: &Path) -> io::Result<Inotify> {
        // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
        let raw = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let cpath = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: `fd` is an inotify descriptor and `cpath` a NUL-terminated path that
        // outlives the call.
        let wd =
            unsafe { libc::inotify_add_watch(fd.as_raw_fd(), cpath.as_ptr(), libc::IN_MODIFY) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Inotify { fd })
    }

    /// Reads and discards the pending events: the file is re-read from the last
    /// offset anyway.
    fn drain(&self) {
        let mut buf = [0u8; 4096];
        // SAFETY: reads into a live local buffer of the given length; the descriptor is
        // non-blocking, so this ends with EAGAIN once the queue is empty.
        while unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}
