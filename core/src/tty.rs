//! A pseudo-terminal for `vessel exec -t`: the command gets a terminal of its own, and
//! vessel copies bytes between the caller's terminal and it.
//!
//! The pty's *master* end stays with vessel; the *slave* end becomes the command's stdin,
//! stdout and stderr, and its controlling terminal (`setsid` + `TIOCSCTTY` in the child),
//! so Ctrl-C typed by the user reaches the command as `SIGINT` from the pty's own line
//! discipline. The caller's terminal is switched to raw mode meanwhile, so every key goes
//! through untouched, and restored afterwards on every path.

use std::fs::File;
use std::io::{self, Read, Write};

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::container::Running;
use crate::error::{Error, Result};

/// Both ends of a new pseudo-terminal.
#[derive(Debug)]
pub struct Pty {
    /// Kept by vessel: what the command writes comes out here.
    pub master: OwnedFd,
    /// Given to the command as fds 0, 1 and 2.
    pub slave: OwnedFd,
}

fn sys(call: &'static str) -> Error {
    Error::last_os(call)
}

impl Pty {
    /// Opens a pty pair, sized like the terminal on `size_from` if it is one.
    pub fn open(size_from: BorrowedFd<'_>) -> Result<Pty> {
        // SAFETY: posix_openpt takes flags and returns a new descriptor or -1.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if master == -1 {
            return Err(sys("posix_openpt (a terminal for exec -t)"));
        }
        // SAFETY: a descriptor just returned by posix_openpt, owned by nobody else.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        // SAFETY: grantpt/unlockpt take the master descriptor we hold.
        if unsafe { libc::grantpt(master.as_raw_fd()) } == -1
            // SAFETY: as above.
            || unsafe { libc::unlockpt(master.as_raw_fd()) } == -1
        {
            return Err(sys("unlockpt (a terminal for exec -t)"));
        }
        // TIOCGPTPEER opens the slave from the master without a path lookup (and without
        // ptsname, which is not thread-safe).
        // SAFETY: the ioctl takes open flags and returns a new descriptor or -1.
        let slave = unsafe {
            libc::ioctl(
                master.as_raw_fd(),
                libc::TIOCGPTPEER,
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if slave == -1 {
            return Err(sys("ioctl(TIOCGPTPEER) (a terminal for exec -t)"));
        }
        // SAFETY: a descriptor just returned by the kernel, owned by nobody else.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        // SAFETY: an all-zero winsize is valid; TIOCGWINSZ fills it in or fails harmlessly.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: `size` is a live winsize for both ioctls.
        if unsafe { libc::ioctl(size_from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0 {
            // SAFETY: as above, on the slave we own.
            unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        }
        Ok(Pty { master, slave })
    }
}

/// The caller's terminal in raw mode; the old settings come back when dropped.
pub struct RawMode {
    fd: libc::c_int,
    saved: libc::termios,
}

impl RawMode {
    /// Switches the terminal on `fd` to raw mode.
    pub fn enter(fd: BorrowedFd<'_>) -> Result<RawMode> {
        // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `saved` is a live termios.
        if unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut saved) } == -1 {
            return Err(sys("tcgetattr (the caller's terminal)"));
        }
        let mut raw = saved;
        // SAFETY: `raw` is a live termios to modify.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: `raw` is a valid termios for the terminal.
        if unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &raw) } == -1 {
            return Err(sys("tcsetattr (the caller's terminal)"));
        }
        Ok(RawMode {
            fd: fd.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from this same terminal.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

// ANCHOR: relay
/// Copies the caller's stdin to the pty and the pty to the caller's stdout until the
/// command exits, passing `signals` (a signalfd's readiness) to `on_signal`.
pub fn relay(
    master: &OwnedFd,
    running: &Running,
    signals: BorrowedFd<'_>,
    mut on_signal: impl FnMut(),
) -> Result<()> {
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    let mut pty = File::from(master.try_clone().map_err(|source| Error::Sys {
        call: "dup the pty master",
        source,
    })?);
    let mut buf = [0u8; 4096];
    let mut stdin_open = true;
    loop {
        let mut fds = vec![
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(running.pidfd(), PollFlags::POLLIN),
            PollFd::new(signals, PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => {
                return Err(Error::Sys {
                    call: "poll (exec -t)",
                    source: e.into(),
                });
            }
            Ok(_) => {}
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (output, exited, signalled, input) = (ready(0), ready(1), ready(2), ready(3));
        if output {
            match pty.read(&mut buf) {
                // EIO: every slave descriptor is closed, the command and its children
                // are gone.
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => {
                    let _ = stdout.write_all(&buf[..n]).and_then(|()| stdout.flush());
                }
            }
        } else if exited {
            return Ok(());
        }
        if signalled {
            on_signal();
        }
        if input {
            // A plain read(2): std's stdin buffers, and bytes left in its buffer would
            // never wake poll again.
            // SAFETY: fd 0 is open (poll just reported it); `buf` is live writable memory.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            match usize::try_from(n) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let _ = pty.write_all(&buf[..n]);
                }
            }
        }
    }
}
// ANCHOR_END: relay
