//! Running a container to completion and collecting what it wrote, like
//! [`std::process::Command::output`]: what tests and demos want instead of a terminal.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::thread;

use crate::cgroups::Stats;
use crate::process::container::Container;
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep};
use crate::process::exit::ExitStatus;
use crate::process::pipe::Pipe;
use crate::process::spec::ContainerSpec;
use crate::process::stdio::Stdio;

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
    let null = File::open("/dev/null").map_err(ProcessError::io(ProcessStep::OpenDevNull))?;
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
