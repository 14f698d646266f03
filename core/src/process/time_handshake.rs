//! The parent's end of a time namespace's offsets ([`crate::namespaces::time`]): the
//! child unshares the namespace and waits on a pipe; the parent writes
//! `/proc/PID/timens_offsets` and lets it go on, before anything enters the namespace.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use crate::namespaces::time::TimeOffsets;
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep};
use crate::process::pipe::Pipe;
use crate::process::plan::step::{Plan, Step};

/// The parent's end of the time-offset handshake of one container start.
#[derive(Debug)]
pub struct TimeHandshake {
    ready: Pipe,
    resume: Pipe,
}

impl TimeHandshake {
    /// If `plan` unshares a time namespace, creates the two pipes and puts the child's
    /// [`Step::AwaitTimeOffsets`] right after that unshare.
    pub fn prepare(plan: &mut Plan) -> Result<Option<TimeHandshake>> {
        let Some(at) = plan
            .steps
            .iter()
            .position(|s| matches!(s, Step::Unshare(flags) if flags & libc::CLONE_NEWTIME != 0))
        else {
            return Ok(None);
        };
        let handshake = TimeHandshake {
            ready: Pipe::new()?,
            resume: Pipe::new()?,
        };
        plan.steps.insert(
            at + 1,
            Step::AwaitTimeOffsets {
                ready: handshake.ready.write.as_raw_fd(),
                resume: handshake.resume.read.as_raw_fd(),
                unused: [
                    handshake.ready.read.as_raw_fd(),
                    handshake.resume.write.as_raw_fd(),
                ],
            },
        );
        Ok(Some(handshake))
    }

    // ANCHOR: write_offsets
    /// Waits until the child `pid` has created its time namespace, writes `offsets`,
    /// and lets it go on. Call after the child was cloned.
    pub fn write_offsets(self, pid: libc::pid_t, offsets: &TimeOffsets) -> Result<()> {
        let TimeHandshake { ready, resume } = self;
        // Our copy of the write end must go, or end-of-file would never come.
        drop(ready.write);
        drop(resume.read);
        let mut rest = Vec::new();
        File::from(ready.read)
            .read_to_end(&mut rest)
            .map_err(ProcessError::io(ProcessStep::AwaitTimeNamespace))?;
        let path = format!("/proc/{pid}/timens_offsets");
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(offsets.proc_text().as_bytes()))
            .map_err(|source| ProcessError::TimeOffsets {
                monotonic: offsets.monotonic,
                boottime: offsets.boottime,
                source,
            })?;
        resume_child(resume.write)
    }
    // ANCHOR_END: write_offsets
}

fn resume_child(resume: OwnedFd) -> Result<()> {
    File::from(resume)
        .write_all(&[1])
        .map_err(ProcessError::io(ProcessStep::EnterTimeNamespace))?;
    Ok(())
}
