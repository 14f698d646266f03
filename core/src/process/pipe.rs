//! The two pipes that connect parent and child during start-up.
//!
//! * **go**: the child blocks reading it until the parent has done its share of the set-up
//!   (id maps, cgroup attach) and writes one byte.
//! * **report**: close-on-exec. A failing step writes `(step, errno)` to it; a successful
//!   `execve` closes it, so the parent reading end-of-file knows the command started.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;

use crate::process::error::Result;
use crate::process::error::{HookOutcome, ProcessError, ProcessStep};

/// The message a failing child sends: which step, the `errno` it got, and for a hook
/// that ran, its wait status. Twelve bytes, well under `PIPE_BUF`, so one `write`
/// delivers it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFailure {
    /// Index into [`Plan::steps`](crate::process::plan::step::Plan::steps) (after
    /// `vessel start`: counted from the step after the wait).
    pub step: u32,
    /// The `errno` the step's system call returned; for a hook step, 0 when the hook
    /// ran and failed, `ETIMEDOUT` when it was killed at its timeout.
    pub errno: i32,
    /// A hook's wait status (0 for every other step).
    pub status: i32,
}

impl StepFailure {
    /// Wire size of one report.
    pub const SIZE: usize = 12;

    /// Encodes the report for the pipe.
    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut bytes = [0; Self::SIZE];
        let words = [
            self.step.to_ne_bytes(),
            self.errno.to_ne_bytes(),
            self.status.to_ne_bytes(),
        ];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word);
        }
        bytes
    }

    /// Decodes a report read from the pipe.
    pub fn from_bytes(bytes: [u8; Self::SIZE]) -> Self {
        let [s0, s1, s2, s3, e0, e1, e2, e3, w0, w1, w2, w3] = bytes;
        StepFailure {
            step: u32::from_ne_bytes([s0, s1, s2, s3]),
            errno: i32::from_ne_bytes([e0, e1, e2, e3]),
            status: i32::from_ne_bytes([w0, w1, w2, w3]),
        }
    }

    // ANCHOR: hook_outcome
    /// What a failed hook step's report says: the hook's exit status, its timeout, or
    /// the system call that failed (its own `execve` included).
    pub fn hook_outcome(self) -> HookOutcome {
        let status = crate::process::exit::ExitStatus::from_wait_status(self.status);
        match self.errno {
            0 => HookOutcome::Ended(status),
            libc::ETIMEDOUT => HookOutcome::TimedOut(status),
            errno => HookOutcome::Sys(std::io::Error::from_raw_os_error(errno)),
        }
    }
    // ANCHOR_END: hook_outcome
}

/// Both ends of one close-on-exec pipe.
#[derive(Debug)]
pub struct Pipe {
    /// The read end.
    pub read: OwnedFd,
    /// The write end.
    pub write: OwnedFd,
}

impl Pipe {
    /// Creates a pipe with both ends close-on-exec, so no command started by anyone ever
    /// inherits it.
    pub fn new() -> Result<Pipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .map_err(|e| ProcessError::io(ProcessStep::Pipe)(e.into()))?;
        Ok(Pipe { read, write })
    }
}

/// The raw descriptors the child uses, and the ones it must close so that end-of-file
/// means what it should.
#[derive(Debug, Clone, Copy)]
pub struct ChildEnds {
    /// Read end of the go pipe.
    pub go: RawFd,
    /// Write end of the report pipe.
    pub report: RawFd,
    /// The other two ends, which the child closes at once.
    pub unused: [RawFd; 2],
    /// Write end of the trace pipe, when the start is traced.
    pub trace: Option<RawFd>,
}

impl ChildEnds {
    /// The child's view of the two pipes.
    pub fn of(go: &Pipe, report: &Pipe) -> ChildEnds {
        ChildEnds {
            go: go.read.as_raw_fd(),
            report: report.write.as_raw_fd(),
            unused: [go.write.as_raw_fd(), report.read.as_raw_fd()],
            trace: None,
        }
    }
}

/// Tells the child to go on.
pub fn send_go(go_write: OwnedFd) -> Result<()> {
    File::from(go_write)
        .write_all(&[1])
        .map_err(ProcessError::io(ProcessStep::WriteGo))?;
    Ok(())
}

/// What the report pipe said once the child stopped writing to it.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// End-of-file with nothing read: `execve` succeeded.
    Started,
    /// A step failed.
    Failed(StepFailure),
    /// The child died before exec without a full report.
    Vanished,
}

/// Reads the report pipe until end-of-file.
pub fn read_report(report_read: OwnedFd) -> Result<Report> {
    let mut bytes = Vec::with_capacity(StepFailure::SIZE);
    File::from(report_read)
        .read_to_end(&mut bytes)
        .or_else(|e| match e.kind() {
            ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        })
        .map_err(ProcessError::io(ProcessStep::ReadReport))?;
    Ok(
        match <[u8; StepFailure::SIZE]>::try_from(bytes.as_slice()) {
            Ok(exact) => Report::Failed(StepFailure::from_bytes(exact)),
            Err(_) if bytes.is_empty() => Report::Started,
            Err(_) => Report::Vanished,
        },
    )
}
