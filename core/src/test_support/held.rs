//! A container the lesson holds open: its command prints what it sees, then waits for
//! its stdin to close. Meanwhile the lesson looks at the same process from the host —
//! its pid, its cgroup, its namespaces — while it is certainly still running. Closing
//! stdin is the signal to finish: no sleeps, no races.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;

use super::bounded::{BOUND, BoundedLines};
use crate::process::pipe::Pipe;
use crate::{Container, ContainerSpec, ExitStatus, Running, Stdio};

/// A running container with its stdin and stdout on pipes held by the lesson.
#[derive(Debug)]
pub struct HeldContainer {
    running: Running,
    stdin: File,
    lines: BoundedLines,
}

impl HeldContainer {
    /// Starts `spec` with stdin and stdout on pipes; stderr stays the lesson's.
    pub fn start(spec: &ContainerSpec) -> crate::Result<HeldContainer> {
        let stdin = Pipe::new()?;
        let stdout = Pipe::new()?;
        let running = Container::spawn_with_stdio(
            spec,
            Stdio {
                stdin: Some(stdin.read.as_fd()),
                stdout: Some(stdout.write.as_fd()),
                stderr: None,
            },
        )?;
        // Only the container may hold these ends, or end-of-file would never come.
        drop((stdin.read, stdout.write));
        Ok(HeldContainer {
            running,
            stdin: File::from(stdin.write),
            lines: BoundedLines::new(stdout.read, BOUND),
        })
    }

    /// The running container: its pid, cgroup and counters.
    pub fn running(&self) -> &Running {
        &self.running
    }

    /// The next line the container printed, or `""` once it closed its stdout; an error
    /// (`TimedOut`) if none came within [`BOUND`].
    pub fn next_line(&mut self) -> io::Result<String> {
        Ok(self.lines.next_line()?.unwrap_or_default())
    }

    /// The lines printed before a line equal to `marker` (which is consumed).
    pub fn lines_until(&mut self, marker: &str) -> io::Result<Vec<String>> {
        let mut lines = Vec::new();
        while let Some(line) = self.lines.next_line()? {
            if line == marker {
                break;
            }
            lines.push(line);
        }
        Ok(lines)
    }

    /// The container's stdin, to send it more input before releasing it.
    pub fn stdin(&mut self) -> &mut File {
        &mut self.stdin
    }

    /// Closes the container's stdin, so its command finishes, and waits for it.
    pub fn release(self) -> crate::Result<ExitStatus> {
        let HeldContainer {
            mut running, stdin, ..
        } = self;
        drop(stdin);
        Ok(running.wait()?)
    }
}
