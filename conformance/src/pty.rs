//! A pseudo-terminal the suite owns, to stand in for the terminal of the shell that
//! starts a runtime: the no-controlling-terminal check makes its slave the caller's
//! controlling terminal and the container's stdin, and looks on both sides afterwards
//! for a byte the container tried to push in with `TIOCSTI`. Never a real terminal.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Both ends of a fresh pty.
#[derive(Debug)]
pub struct Pty {
    /// The master: what a terminal emulator reads (the slave's output, echo included).
    pub master: OwnedFd,
    /// The slave: the terminal the shell and its children have as fd 0.
    pub slave: OwnedFd,
}

fn last_error(call: &str) -> String {
    format!("{call}: {}", std::io::Error::last_os_error())
}

impl Pty {
    /// Opens a pty whose slave is in non-canonical mode with echo on: a byte pushed into
    /// its input is readable at once on the slave (`FIONREAD`) and echoed to the master.
    pub fn open() -> Result<Pty, String> {
        // SAFETY: posix_openpt takes flags and returns a new descriptor or -1.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if master < 0 {
            return Err(last_error("posix_openpt"));
        }
        // SAFETY: `master` was just opened and is owned by nobody else.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: `master` is a pty master; `name` is writable for its length.
        let ready = unsafe {
            libc::grantpt(master.as_raw_fd()) == 0
                && libc::unlockpt(master.as_raw_fd()) == 0
                && libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) == 0
        };
        if !ready {
            return Err(last_error("grantpt/unlockpt/ptsname_r"));
        }
        // SAFETY: ptsname_r wrote a NUL-terminated path into `name`.
        let slave = unsafe {
            libc::open(
                name.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NONBLOCK,
            )
        };
        if slave < 0 {
            return Err(last_error("open the pty slave"));
        }
        // SAFETY: as for the master.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: `termios` has room for one termios; tcgetattr fills it before it is
        // read, and tcsetattr reads it.
        let set = unsafe {
            libc::tcgetattr(slave.as_raw_fd(), termios.as_mut_ptr()) == 0 && {
                let mut t = termios.assume_init();
                t.c_lflag &= !libc::ICANON;
                t.c_lflag |= libc::ECHO;
                t.c_cc[libc::VMIN] = 0;
                t.c_cc[libc::VTIME] = 0;
                libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) == 0
            }
        };
        if !set {
            return Err(last_error("set the pty's termios"));
        }
        Ok(Pty { master, slave })
    }

    /// Bytes waiting in the slave's input queue (pushed with `TIOCSTI`, or typed).
    pub fn pending_input(&self) -> Result<i32, String> {
        let mut count: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int, `count`.
        if unsafe { libc::ioctl(self.slave.as_raw_fd(), libc::FIONREAD, &mut count) } < 0 {
            return Err(last_error("FIONREAD on the pty slave"));
        }
        Ok(count)
    }

    /// What the master can read within `millis` (echo reaches it through a work queue,
    /// so it may lag the push by a moment; this is a bound, not a synchronisation).
    pub fn master_output(&self, millis: i32) -> Result<Vec<u8>, String> {
        let mut poll = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `poll` is one live pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready <= 0 || poll.revents & libc::POLLIN == 0 {
            return Ok(Vec::new());
        }
        let mut master = File::from(
            self.master
                .try_clone()
                .map_err(|e| format!("duplicate the pty master: {e}"))?,
        );
        let mut buf = [0u8; 256];
        let n = master
            .read(&mut buf)
            .map_err(|e| format!("read the pty master: {e}"))?;
        Ok(buf[..n].to_vec())
    }
}
