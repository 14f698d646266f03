//! Where start-up time goes: timestamps of each stage of one container start, recorded
//! only when [`ContainerSpec::trace_start`](crate::process::spec::ContainerSpec::trace_start) asks.
//!
//! The parent notes when each of its stages ends (plan, cgroup, clone, id maps, …). The
//! child, which must not allocate, writes `(step, CLOCK_MONOTONIC nanoseconds)` to a
//! close-on-exec pipe as each planned step begins; the parent reads those once `execve`
//! has closed the pipe. Both sides read the same clock, so the records merge into one
//! timeline. With tracing off none of this exists: no pipe, no clock reads, no writes.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use crate::error::Result;
use crate::process::pipe::Pipe;
use crate::process::plan::step::{Plan, Step};

/// One stage of a start and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// What happened: `clone3`, `mount proc on …/proc`, `pivot_root(…/rootfs)`.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

/// The stages of one start, in order, from `spawn` being called to `execve` succeeding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartTrace {
    /// The stages, in the order they happened.
    pub stages: Vec<Stage>,
}

impl StartTrace {
    /// The sum of all stages: the whole start.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }
}

/// One record as the child writes it.
const RECORD: usize = 12;

/// The current `CLOCK_MONOTONIC` time in nanoseconds. Async-signal-safe (a vDSO call).
pub(crate) fn monotonic_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a live timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64) * 1_000_000_000 + now.tv_nsec as u64
}

// ANCHOR: record_step
/// Child side: records that step `index` begins now. Allocation-free.
pub(crate) fn record_step(fd: RawFd, index: usize) {
    let mut bytes = [0u8; RECORD];
    let (step, at) = bytes.split_at_mut(4);
    step.copy_from_slice(&(index as u32).to_ne_bytes());
    at.copy_from_slice(&monotonic_nanos().to_ne_bytes());
    // SAFETY: `fd` is the write end of the trace pipe, open in this process; `bytes` is a
    // live buffer of RECORD bytes. A lost record only makes the trace coarser.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}
// ANCHOR_END: record_step

/// Parent side: collects the marks of one start.
#[derive(Debug)]
pub(crate) struct Tracer {
    began: u64,
    /// `(stage, time it ended)`, parent stages only.
    marks: Vec<(String, u64)>,
    pipe: Pipe,
}

impl Tracer {
    /// Starts the clock and opens the child's trace pipe.
    pub fn start() -> Result<Tracer> {
        Ok(Tracer {
            began: monotonic_nanos(),
            marks: Vec::new(),
            pipe: Pipe::new()?,
        })
    }

    /// Notes that the parent stage `name` ended now.
    pub fn mark(&mut self, name: &str) {
        self.marks.push((name.to_owned(), monotonic_nanos()));
    }

    /// The descriptor the child writes its records to.
    pub fn child_fd(&self) -> RawFd {
        self.pipe.write.as_raw_fd()
    }

    /// After `execve` succeeded: reads the child's records and builds the timeline.
    /// `exec_seen` is when the parent saw the report pipe close.
    pub fn finish(self, plan: &Plan, exec_seen: u64) -> StartTrace {
        let Tracer {
            began,
            mut marks,
            pipe,
        } = self;
        drop(pipe.write);
        let mut bytes = Vec::new();
        let _ = File::from(pipe.read).read_to_end(&mut bytes);
        let child: Vec<(usize, u64)> = bytes
            .chunks_exact(RECORD)
            .map(|r| {
                let (step, at) = r.split_at(4);
                let step = u32::from_ne_bytes(step.try_into().unwrap_or_default());
                (
                    step as usize,
                    u64::from_ne_bytes(at.try_into().unwrap_or_default()),
                )
            })
            .collect();
        // Child step i ends when step i+1 begins; the last (exec) when the parent saw it.
        if let Some((_, first)) = child.first() {
            marks.push(("child wakes up after go".to_owned(), *first));
        }
        let ends = child.iter().skip(1).map(|(_, at)| *at).chain([exec_seen]);
        for ((index, _), end) in child.iter().zip(ends) {
            let name = plan.step(*index).map_or_else(|| "?".to_owned(), stage_name);
            marks.push((name, end));
        }
        StartTrace {
            stages: merge(began, marks),
        }
    }
}

/// Durations from consecutive end times, with runs of the same name merged.
fn merge(began: u64, marks: Vec<(String, u64)>) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut previous = began;
    for (name, end) in marks {
        let duration = Duration::from_nanos(end.saturating_sub(previous));
        previous = previous.max(end);
        match stages.last_mut() {
            Some(last) if last.name == name => last.duration += duration,
            _ => stages.push(Stage { name, duration }),
        }
    }
    stages
}

/// A step's name without the long host paths: `mount proc on …/proc`.
fn stage_name(step: &Step) -> String {
    match step {
        Step::CharDevice { .. } => "mknod /dev nodes".to_owned(),
        Step::Symlink { .. } => "symlinks in /dev".to_owned(),
        Step::Dup2 { .. } => "dup2 stdio".to_owned(),
        Step::DropBoundingCapability(_) => "drop capabilities (PR_CAPBSET_DROP)".to_owned(),
        other => shorten_paths(&other.describe()),
    }
}

/// Replaces each quoted absolute path with `…/` and its last component.
fn shorten_paths(text: &str) -> String {
    let mut out = String::new();
    let mut parts = text.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        let quoted = i % 2 == 0;
        match (quoted, part.trim_end_matches('/').rsplit_once('/')) {
            (true, Some((dir, last))) if !dir.is_empty() => {
                out.push_str("…/");
                out.push_str(last);
            }
            _ => out.push_str(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_shrink_to_their_last_component() {
        assert_eq!(
            shorten_paths(r#"mount proc on "/var/lib/vessel/rootfs/proc""#),
            "mount proc on …/proc"
        );
        assert_eq!(shorten_paths(r#"execve("/bin/true")"#), "execve(…/true)");
        assert_eq!(shorten_paths("detach old root"), "detach old root");
        assert_eq!(shorten_paths(r#"mkdir("/r/dev/")"#), "mkdir(…/dev)");
    }

    #[test]
    fn stages_take_the_time_since_the_previous_mark_and_repeats_merge() {
        let stages = merge(
            100,
            vec![
                ("a".into(), 150),
                ("b".into(), 160),
                ("b".into(), 190),
                ("c".into(), 200),
            ],
        );
        let durations: Vec<(&str, u64)> = stages
            .iter()
            .map(|s| (s.name.as_str(), s.duration.as_nanos() as u64))
            .collect();
        assert_eq!(durations, [("a", 50), ("b", 40), ("c", 10)]);
    }
}
