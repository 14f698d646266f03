//! A user's terminal without a real one, for the `run -t` and `exec -t` tests: the test
//! opens a pty pair, gives vessel the slave as its stdin, stdout and stderr (as a user's
//! terminal would be) and reads the master. No sleeps: every wait is a read that the
//! other side's write (or exit) ends.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::{Child, Command};

use vessel::test_support::{BOUND, read_within, wait_within};
use vessel::tty::Pty;

use super::text;

/// The user's side of a terminal, and vessel started on its slave.
pub struct Session {
    pub master: File,
    pub vessel: Child,
}

impl Session {
    /// Starts `vessel` (a command with its arguments) on a new terminal of `rows` × `cols`.
    pub fn start(mut vessel: Command, (rows, cols): (u16, u16)) -> Session {
        let terminal = Pty::open(std::io::stderr().as_fd()).unwrap();
        set_size(terminal.slave.as_fd(), rows, cols);
        let slave = || std::process::Stdio::from(terminal.slave.try_clone().unwrap());
        let vessel = vessel
            .stdin(slave())
            .stdout(slave())
            .stderr(slave())
            .spawn()
            .unwrap();
        // Only vessel may hold the slave now: reading the master then ends (EIO) once
        // vessel has exited.
        let Pty { master, slave } = terminal;
        drop(slave);
        Session {
            master: File::from(master),
            vessel,
        }
    }

    /// Reads until `wanted` has appeared (or the terminal closed); returns all read.
    /// Each read is bounded: nothing for [`BOUND`] fails the test.
    pub fn read_until(&mut self, wanted: &str) -> String {
        let mut seen = Vec::new();
        read_within(&mut self.master, &mut seen, BOUND, |seen| {
            String::from_utf8_lossy(seen).contains(wanted)
        })
        .unwrap_or_else(|e| panic!("waiting for {wanted:?}: {e}; got {:?}", text(&seen)));
        text(&seen)
    }

    /// Reads the rest of the output and waits for vessel: (output, exit code).
    pub fn finish(mut self) -> (String, Option<i32>) {
        let mut seen = Vec::new();
        // Ends with EIO once vessel, the last holder of the slave, exits.
        read_within(&mut self.master, &mut seen, BOUND, |_| false).unwrap_or_else(|e| {
            panic!("vessel's terminal stayed open: {e}; got {:?}", text(&seen))
        });
        let status = wait_within(&mut self.vessel, BOUND)
            .unwrap()
            .expect("vessel exited once its terminal closed");
        (text(&seen), status.code())
    }
}

/// Sets the terminal's window size, as a user resizing the window does.
pub fn set_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer, a live local.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    assert_eq!(ret, 0, "TIOCSWINSZ on the test's pty");
}

/// The terminal's modes (the pty pair's termios, read through either end).
fn modes(fd: BorrowedFd<'_>) -> libc::termios {
    // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `mode` is a live termios.
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut mode) }, 0);
    mode
}

/// Whether the terminal echoes and edits lines: a terminal's normal mode, which raw
/// mode switches off.
pub fn cooked(fd: BorrowedFd<'_>) -> bool {
    let wanted = libc::ICANON | libc::ECHO;
    modes(fd).c_lflag & wanted == wanted
}

/// Whether the terminal post-processes output (`OPOST`, under which `ONLCR` adds `\r`).
pub fn posts_output(fd: BorrowedFd<'_>) -> bool {
    modes(fd).c_oflag & libc::OPOST != 0
}
