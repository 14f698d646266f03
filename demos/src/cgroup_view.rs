//! What the cgroup lessons show of a container's cgroup: its directories, the files
//! vessel wrote, and each counter under its real name in this machine's vocabulary
//! (v1 or v2), so learners see the interface the kernel actually offers.

use std::path::PathBuf;

use vessel::cgroups::{Cgroup, CgroupManager};

use crate::Lesson;

/// A cgroup name for one run of a lesson: `demo-oom-1234`.
pub fn cgroup_name(lesson: &str) -> String {
    format!("{lesson}-{}", std::process::id())
}

/// Prints the cgroup's directory for `controller` and every file vessel wrote.
pub fn show_limits(lesson: &Lesson, cgroup: &Cgroup, controller: &str) {
    if let Some(dir) = cgroup.dir_of(controller) {
        lesson.syscall(&format!("mkdir {}", dir.display()));
    }
    for written in cgroup.written() {
        let file = written
            .file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        lesson.syscall(&format!("write {:?} to {file}", written.value));
    }
}

/// The file (and key) each counter comes from, in this cgroup's vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct CounterNames {
    /// The OOM kill counter.
    pub oom_kills: &'static str,
    /// The limit-hit counter.
    pub limit_hits: &'static str,
    /// The peak memory use.
    pub memory_peak: &'static str,
    /// CPU time used.
    pub cpu_usage: &'static str,
    /// Periods in which the quota ran out.
    pub throttled: &'static str,
}

/// The names for `cgroup`'s version.
pub fn counter_names(cgroup: &Cgroup) -> CounterNames {
    match cgroup.manager() {
        CgroupManager::V1(_) => CounterNames {
            oom_kills: "memory.oom_control: oom_kill",
            limit_hits: "memory.failcnt + memory.memsw.failcnt",
            memory_peak: "memory.max_usage_in_bytes",
            cpu_usage: "cpuacct.usage",
            throttled: "cpu.stat: nr_throttled",
        },
        CgroupManager::V2(_) => CounterNames {
            oom_kills: "memory.events: oom_kill",
            limit_hits: "memory.events: max",
            memory_peak: "memory.peak",
            cpu_usage: "cpu.stat: usage_usec",
            throttled: "cpu.stat: nr_throttled",
        },
    }
}

/// Whether any of `dirs` still exists.
pub fn any_left(dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| d.exists())
}
