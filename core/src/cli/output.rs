//! The one way the CLI prints. `println!` panics when stdout is a pipe whose reader has
//! gone (`vessel images | head -0`: exit 101 and a panic message); everything here goes
//! through [`out`] and [`err`] instead (`outln!`/`errln!` format for them, and
//! `clippy::print_stdout`/`print_stderr` keep `println!` out of the library).
//!
//! A reader that went away (EPIPE) ends the output, quietly: nothing more is printed, the
//! command still finishes what it was asked to do (`vessel stop a b | head -0` stops both)
//! and exits with its own code. docker's Go runtime dies of SIGPIPE at the first write
//! instead (exit 141 in a shell), leaving the rest undone; either is quiet, and a
//! `pipefail` script sees success here. Any other write error (`vessel ps > /dev/full`)
//! is reported once at exit, with 125 if the command had otherwise succeeded.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone: later output is dropped without a write.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// The first write error that was not a closed pipe, for [`exit_code`] to report.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to stdout (see the module comment for what a failure does).
pub fn out(text: &str) {
    out_bytes(text.as_bytes());
}

/// Writes `bytes` (not necessarily UTF-8: a container's output) to stdout.
pub fn out_bytes(bytes: &[u8]) {
    if stdout_closed() {
        return;
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
        Err(e) => remember("stdout", &e),
    }
}

/// Whether stdout's reader has gone, so a command that would only print more (`logs
/// -f`) can stop.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Writes `text` to stderr. A closed stderr has no one left to tell, so its errors are
/// dropped (a panic would only try to print to it again).
pub fn err(text: &str) {
    err_bytes(text.as_bytes());
}

/// Writes `bytes` to stderr, as [`err`].
pub fn err_bytes(bytes: &[u8]) {
    let _ = io::stderr().lock().write_all(bytes);
}

fn remember(stream: &str, error: &io::Error) {
    let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
    failed.get_or_insert_with(|| format!("writing to {stream}: {error}"));
}

/// The exit code for a command that returned `code`: a write error other than a closed
/// pipe is said on stderr and turns success into 125.
pub fn exit_code(code: i32) -> i32 {
    let failed = FAILED.lock().unwrap_or_else(|p| p.into_inner()).take();
    match failed {
        Some(message) => {
            err(&format!("vessel: {message}\n"));
            if code == 0 { 125 } else { code }
        }
        None => code,
    }
}

/// `println!` for the CLI: stdout through [`out`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` for the CLI: stderr through [`err`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::err(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};
