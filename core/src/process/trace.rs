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

use crate::process::error::Result;
use crate::process::pipe::Pipe;
use crate::process::plan::step::{Plan, Step};

/// One stage of a start and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// What happened: `clone3`, `mount proc on …/proc`, `pivot_root(…/rootfs)`.
    pub name: String,
    /// Who did it: the parent's stages and the child's steps overlap in time.
    pub side: StageSide,
    /// When it began, from `spawn` being called.
    pub began: Duration,
    /// How long it took.
    pub duration: Duration,
}

/// The process a stage ran in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageSide {
    /// The caller of `spawn`: plan, cgroup, clone, attach, go.
    Parent,
    /// The container's first process, between `clone3` and `execve`.
    Child,
}

/// The stages of one start, from `spawn` being called to `execve` succeeding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartTrace {
    /// The stages in the order they began, both sides interleaved.
    pub stages: Vec<Stage>,
}

impl StartTrace {
    /// The whole start: from `spawn` being called to the end of its last stage. Less
    /// than the sum of the stages where parent and child worked at the same time.
    pub fn total(&self) -> Duration {
        self.stages
            .iter()
            .map(|s| s.began + s.duration)
            .max()
            .unwrap_or_default()
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
        let Tracer { began, marks, pipe } = self;
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
        let child_began = child.first().map_or(exec_seen, |(_, at)| *at);
        let ends = child.iter().skip(1).map(|(_, at)| *at).chain([exec_seen]);
        let steps = child.iter().zip(ends).map(|((index, _), end)| {
            let name = plan.step(*index).map_or_else(|| "?".to_owned(), stage_name);
            (name, end)
        });
        let mut stages = merge(began, began, StageSide::Parent, marks);
        stages.extend(merge(began, child_began, StageSide::Child, steps.collect()));
        stages.sort_by_key(|s| s.began);
        StartTrace { stages }
    }
}

/// One side's stages from their end times (each begins where the one before it ended,
/// the first at `first_began`), with runs of the same name merged; `began` is when the
/// start began.
fn merge(began: u64, first_began: u64, side: StageSide, marks: Vec<(String, u64)>) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut previous = first_began;
    for (name, end) in marks {
        let duration = Duration::from_nanos(end.saturating_sub(previous));
        let at = Duration::from_nanos(previous.saturating_sub(began));
        previous = previous.max(end);
        match stages.last_mut() {
            Some(last) if last.name == name => last.duration += duration,
            _ => stages.push(Stage {
                name,
                side,
                began: at,
                duration,
            }),
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
            120,
            StageSide::Child,
            vec![
                ("a".into(), 150),
                ("b".into(), 160),
                ("b".into(), 190),
                ("c".into(), 200),
            ],
        );
        let durations: Vec<(&str, u64, u64)> = stages
            .iter()
            .map(|s| {
                let (at, took) = (s.began.as_nanos() as u64, s.duration.as_nanos() as u64);
                (s.name.as_str(), at, took)
            })
            .collect();
        assert_eq!(durations, [("a", 20, 30), ("b", 50, 40), ("c", 90, 10)]);
    }

    #[test]
    fn the_whole_start_is_its_last_end_not_the_sum_of_overlapping_stages() {
        let stage = |side, began, took| Stage {
            name: String::new(),
            side,
            began: Duration::from_micros(began),
            duration: Duration::from_micros(took),
        };
        let trace = StartTrace {
            stages: vec![
                stage(StageSide::Parent, 0, 500),
                stage(StageSide::Child, 100, 300),
                stage(StageSide::Parent, 500, 100),
            ],
        };
        assert_eq!(trace.total(), Duration::from_micros(600));
    }
}
