//! Choosing the container's stdin, stdout and stderr, and collecting its output.
//!
//! By default the container inherits the caller's three descriptors, which is what
//! `vessel run` wants for a terminal. Tests and demos want the output instead:
//! [`output`] runs a container to completion and returns what it wrote, like
//! [`std::process::Command::output`].

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::thread;

use crate::cgroups::Stats;
use crate::error::{Error, Result};
use crate::process::container::Container;
use crate::process::exit::ExitStatus;
use crate::process::pipe::Pipe;
use crate::process::plan::Step;
use crate::process::spec::ContainerSpec;

/// Descriptors to install as the container's 0, 1 and 2; `None` inherits the caller's.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdio<'fd> {
    /// Becomes fd 0.
    pub stdin: Option<BorrowedFd<'fd>>,
    /// Becomes fd 1.
    pub stdout: Option<BorrowedFd<'fd>>,
    /// Becomes fd 2.
    pub stderr: Option<BorrowedFd<'fd>>,
}

impl Stdio<'_> {
    /// The `dup2` steps that install these descriptors, to run first in the child.
    pub(crate) fn steps(&self) -> Vec<Step> {
        [self.stdin, self.stdout, self.stderr]
            .into_iter()
            .zip(0..)
            .filter_map(|(fd, to)| {
                fd.map(|fd| Step::Dup2 {
                    from: fd.as_raw_fd(),
                    to,
                })
            })
            .collect()
    }
}

/// What a finished container wrote, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How the first process ended.
    pub status: ExitStatus,
    /// Everything written to fd 1.
    pub stdout: String,
    /// Everything written to fd 2.
    pub stderr: String,
    /// The final counters of the container's cgroup (OOM kills included), if it had one.
    pub stats: Option<Stats>,
}

/// Runs `spec` with stdin from `/dev/null` and stdout/stderr captured, waits for it, and
/// returns its output (lossily decoded as UTF-8).
pub fn output(spec: &ContainerSpec) -> Result<Output> {
    let null = File::open("/dev/null").map_err(|source| Error::Sys {
        call: "open /dev/null",
        source,
    })?;
    let out = Pipe::new()?;
    let err = Pipe::new()?;
    let mut running = Container::spawn_with_stdio(
        spec,
        Stdio {
            stdin: Some(null.as_fd()),
            stdout: Some(out.write.as_fd()),
            stderr: Some(err.write.as_fd()),
        },
    )?;
    // Our write ends must close, or the reads below never see end-of-file.
    drop(out.write);
    drop(err.write);
    let stderr_reader = thread::spawn(move || read_all(File::from(err.read)));
    let stdout = read_all(File::from(out.read));
    let stderr = stderr_reader.join().unwrap_or_default();
    let status = running.wait()?;
    Ok(Output {
        status,
        stdout,
        stderr,
        stats: running.stats()?,
    })
}

fn read_all(mut file: File) -> String {
    let mut bytes = Vec::new();
    // A read error mid-way still leaves what was read, which is what the caller wants.
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
