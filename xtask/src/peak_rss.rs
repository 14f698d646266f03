//! The peak resident set size of one `bench-peers` start, as GNU time measures it.
//!
//! What it is: `ru_maxrss` of the `wait4` that reaps the command, which the kernel keeps
//! per process as the largest RSS the process reached, raised by every child it (or a
//! descendant) waited for. So it is the largest single process of the command's tree
//! that was waited for, not the sum of the processes alive at once: for `vessel run` the
//! larger of vessel and the container's `/bin/true`; for runc and youki their own process
//! or their re-executed `init`; for podman, podman itself (conmon double-forks away and
//! is never waited for by podman, so neither it nor the runtime under it counts).
//!
//! Why through `time` rather than a `wait4` in xtask: the kernel starts a forked child's
//! peak at its parent's resident size (fork copies the page tables), and a child made
//! with `vfork`, as `posix_spawn` does, gets the parent's own peak at `execve`; the
//! child would report xtask's size. GNU time is a small process that forks and execs
//! the command, so its copy adds about 1 MB (the `exec true` floor's row shows it).
//! The measured rounds stay unwrapped: time's own start would be counted in them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const GNU_TIME: &str = "/usr/bin/time";

/// Wraps commands in GNU time and reads back their peak RSS.
#[derive(Debug)]
pub struct PeakRss {
    report: PathBuf,
}

impl PeakRss {
    /// `None` when GNU time is not installed (Debian's package `time`).
    pub fn new(work: &Path) -> Option<PeakRss> {
        Path::new(GNU_TIME).is_file().then(|| PeakRss {
            report: work.join("peak-rss"),
        })
    }

    /// `command` run by GNU time, which appends its peak RSS (KiB) to our report file;
    /// its arguments, environment and directory are `command`'s (its stdio is not: set
    /// that on the wrapped command).
    pub fn wrap(&self, command: &Command) -> Command {
        let mut wrapped = Command::new(GNU_TIME);
        wrapped
            .arg("--quiet")
            .arg("--append")
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&self.report)
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        // A group of its own: a start that hangs is killed with the runtime under time
        // (see wait::with_timeout), not just time.
        std::os::unix::process::CommandExt::process_group(&mut wrapped, 0);
        wrapped
    }

    /// The largest peak RSS in KiB of the commands wrapped since the last call (a start
    /// may take several: `create`, `start`, `delete`), and forgets them.
    pub fn take(&self) -> Option<u64> {
        let text = fs::read_to_string(&self.report).ok()?;
        let _ = fs::remove_file(&self.report);
        text.lines().filter_map(|l| l.trim().parse().ok()).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bigger_process_reports_a_bigger_peak() {
        let dir = std::env::temp_dir().join(format!("xtask-peak-rss-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let Some(rss) = PeakRss::new(&dir) else {
            eprintln!("skipped: GNU time ({GNU_TIME}) is not installed");
            return;
        };
        let peak = |script: &str| {
            let status = rss
                .wrap(Command::new("sh").args(["-c", script]))
                .status()
                .unwrap();
            assert!(status.success());
            rss.take().expect("GNU time wrote the peak")
        };
        let small = peak("true");
        // 32 MiB held in one shell variable: the shell's heap grows by at least that.
        let big = peak("x=$(head -c 33554432 /dev/zero | tr '\\0' a); test ${#x} -gt 0");
        let _ = fs::remove_dir_all(&dir);
        assert!(small < 16 << 10, "{small} KiB");
        assert!(big > small + (16 << 10), "{big} KiB against {small} KiB");
    }
}
