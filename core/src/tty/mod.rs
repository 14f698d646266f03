//! A container's terminal: the command gets a pty of its own, and vessel copies bytes
//! between the caller's terminal and it (`vessel run -t`, `vessel exec -t`).
//!
//! The pty's *master* end stays with vessel; the *slave* end becomes the command's stdin,
//! stdout and stderr, and its controlling terminal (`setsid` + `TIOCSCTTY` in the child),
//! so Ctrl-C typed by the user reaches the command as `SIGINT` from the pty's own line
//! discipline. The caller's terminal is switched to raw mode meanwhile, so every key goes
//! through untouched, and restored afterwards on every path; its size follows the
//! caller's ([`WindowWatch`]).
//!
//! The pty comes from the container's own devpts, opened by the child inside the
//! container ([`console`]). [`Pty`] opens one on the host's `/dev/ptmx` instead: a
//! terminal outside every container, like a user's (the tests play the user with it).

pub mod console;
pub(crate) mod error;

pub use console::{ConsoleSocket, TerminalRequest};

use std::fs::File;
use std::io::{self, Read, Write};

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use error::Result;
pub use error::{TtyError, TtyStep};

/// Both ends of a new pseudo-terminal on the host's devpts.
#[derive(Debug)]
pub struct Pty {
    /// Kept by vessel: what the command writes comes out here.
    pub master: OwnedFd,
    /// Given to the command as fds 0, 1 and 2.
    pub slave: OwnedFd,
}

impl Pty {
    /// Opens a pty pair, sized like the terminal on `size_from` if it is one.
    pub fn open(size_from: BorrowedFd<'_>) -> Result<Pty> {
        // SAFETY: posix_openpt takes flags and returns a new descriptor or -1.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if master == -1 {
            return Err(TtyError::last_os(TtyStep::OpenPty));
        }
        // SAFETY: a descriptor just returned by posix_openpt, owned by nobody else.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        // SAFETY: grantpt/unlockpt take the master descriptor we hold.
        if unsafe { libc::grantpt(master.as_raw_fd()) } == -1
            // SAFETY: as above.
            || unsafe { libc::unlockpt(master.as_raw_fd()) } == -1
        {
            return Err(TtyError::last_os(TtyStep::UnlockPty));
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
            return Err(TtyError::last_os(TtyStep::OpenPtyPeer));
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

/// A terminal's settings, changed until this guard drops and puts the old ones back.
pub struct TerminalModes {
    fd: libc::c_int,
    saved: libc::termios,
}

impl TerminalModes {
    /// Reads the settings of the terminal on `fd`, lets `change` alter a copy and applies
    /// it; `steps` name the `tcgetattr` and `tcsetattr` in an error.
    pub fn change(
        fd: BorrowedFd<'_>,
        steps: (TtyStep, TtyStep),
        change: impl FnOnce(&mut libc::termios),
    ) -> Result<TerminalModes> {
        // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `saved` is a live termios.
        if unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut saved) } == -1 {
            return Err(TtyError::last_os(steps.0));
        }
        let mut changed = saved;
        change(&mut changed);
        // SAFETY: `changed` is the terminal's own settings, altered.
        if unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &changed) } == -1 {
            return Err(TtyError::last_os(steps.1));
        }
        Ok(TerminalModes {
            fd: fd.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for TerminalModes {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from this same terminal.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// The caller's terminal in raw mode; the old settings come back when dropped.
pub struct RawMode {
    _modes: TerminalModes,
}

impl RawMode {
    /// Switches the terminal on `fd` to raw mode.
    pub fn enter(fd: BorrowedFd<'_>) -> Result<RawMode> {
        let steps = (TtyStep::GetCallerModes, TtyStep::SetCallerModes);
        // SAFETY: `raw` is a live termios to modify.
        TerminalModes::change(fd, steps, |raw| unsafe { libc::cfmakeraw(raw) })
            .map(|_modes| RawMode { _modes })
    }
}

/// What [`relay_with`] does besides copying the pty's output to the caller.
#[derive(Debug, Default, Clone, Copy)]
pub struct Relay<'a> {
    /// Leave the caller's stdin alone (`run -t` without `-i`): the command reads
    /// nothing from it, as with docker.
    pub without_stdin: bool,
    /// Copy the caller's window size to the pty whenever it changes.
    pub resize: Option<&'a WindowWatch>,
}

/// Copies the pty's output to the caller's stdout (and, unless `relay` says otherwise,
/// the caller's stdin to the pty) until the command exits (its `pidfd` turns readable),
/// passing `signals` (a signalfd's readiness) to `on_signal`.
pub fn relay_with(
    master: &OwnedFd,
    pidfd: BorrowedFd<'_>,
    signals: BorrowedFd<'_>,
    mut on_signal: impl FnMut(),
    relay: Relay<'_>,
) -> Result<()> {
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    let mut pty = File::from(
        master
            .try_clone()
            .map_err(TtyError::io(TtyStep::DupPtyMaster))?,
    );
    let mut buf = [0u8; 4096];
    let mut stdin_open = !relay.without_stdin;
    loop {
        let mut fds = vec![
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd, PollFlags::POLLIN),
            PollFd::new(signals, PollFlags::POLLIN),
        ];
        if let Some(watch) = relay.resize {
            fds.push(PollFd::new(watch.signals.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => {
                return Err(TtyError::io(TtyStep::PollRelay)(e.into()));
            }
            Ok(_) => {}
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let resized = relay.resize.is_some() && ready(3);
        let input = stdin_open && ready(fds.len() - 1);
        let (output, exited, signalled) = (ready(0), ready(1), ready(2));
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
        // Before the input: a key typed after a resize sees the new size.
        if let (true, Some(watch)) = (resized, relay.resize) {
            watch.copy_size(master.as_fd());
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

/// The size `(rows, cols)` of the terminal on `fd`, if it is one.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<(u16, u16)> {
    // SAFETY: an all-zero winsize is valid; TIOCGWINSZ fills it in or fails harmlessly.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: `size` is a live winsize.
    (unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0)
        .then_some((size.ws_row, size.ws_col))
}

/// `SIGWINCH` (the caller's terminal changed size), blocked and readable from a
/// signalfd, with the terminal to read the new size from.
#[derive(Debug)]
pub struct WindowWatch {
    signals: SignalFd,
    caller: OwnedFd,
}

impl WindowWatch {
    /// Blocks `SIGWINCH` in this thread (before the container starts, so no resize is
    /// lost; the child unblocks it before exec) and watches the terminal on `caller`.
    pub fn install(caller: BorrowedFd<'_>) -> Result<WindowWatch> {
        let set = SigSet::from(Signal::SIGWINCH);
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(|e| TtyError::io(TtyStep::BlockResize)(e.into()))?;
        let signals = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC)
            .map_err(|e| TtyError::io(TtyStep::WatchResize)(e.into()))?;
        let caller = caller
            .try_clone_to_owned()
            .map_err(TtyError::io(TtyStep::DupCaller))?;
        Ok(WindowWatch { signals, caller })
    }

    /// Takes the pending `SIGWINCH` and gives `pty` the caller's size: the kernel then
    /// sends `SIGWINCH` to the pty's foreground process group.
    fn copy_size(&self, pty: BorrowedFd<'_>) {
        let _ = self.signals.read_signal();
        if let Some((rows, cols)) = window_size(self.caller.as_fd()) {
            let size = libc::winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads a winsize from the pointer, a live local.
            unsafe { libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        }
    }
}
