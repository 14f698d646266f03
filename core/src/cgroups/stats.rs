//! What a container used, as its cgroup counted it: the same numbers `docker stats`
//! shows, read from the same files.

use std::fmt;

use serde::Serialize;

use super::limits::format_size;

/// A snapshot of one container's cgroup counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    /// Memory charged now (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    pub memory_bytes: u64,
    /// The most memory ever charged (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`
    /// from Linux 5.19); `None` when the kernel does not keep it.
    pub memory_peak_bytes: Option<u64>,
    /// How often a memory limit was hit (v1 `memory.failcnt` plus
    /// `memory.memsw.failcnt`, v2 `max` in `memory.events`). On v1 with swap turned off
    /// through memsw, Linux 6.x counts nothing here: the memsw counter fails first and
    /// keeps no failcnt. [`Stats::oom_kills`] is the reliable signal.
    pub memory_limit_hits: u64,
    /// Processes the OOM killer killed in this cgroup (`oom_kill` in v1
    /// `memory.oom_control` or v2 `memory.events`).
    pub oom_kills: u64,
    /// CPU time used, in ns (v1 `cpuacct.usage`, v2 `usage_usec` in `cpu.stat`).
    pub cpu_usage_ns: u64,
    /// CFS periods that had runnable work (`nr_periods` in `cpu.stat`).
    pub cpu_periods: u64,
    /// Periods in which the quota ran out (`nr_throttled`).
    pub cpu_throttled_periods: u64,
    /// Time spent throttled, in ns (v1 `throttled_time`, v2 `throttled_usec`).
    pub cpu_throttled_ns: u64,
    /// Processes and threads in the cgroup now (`pids.current`; zombies count until
    /// they are reaped).
    pub pids: u64,
    /// The most there ever were (`pids.peak`, Linux 6.13+ and some backports).
    pub pids_peak: Option<u64>,
    /// Forks refused because of `pids.max` (`max` in `pids.events`).
    pub pids_limit_hits: u64,
}

impl Stats {
    /// Whether the OOM killer struck inside the container.
    pub fn oom_killed(&self) -> bool {
        self.oom_kills > 0
    }
}

/// The human table `vessel run --stats` prints.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |ns: u64| format!("{:.1} ms", ns as f64 / 1e6);
        let peak = self.memory_peak_bytes.map_or_else(|| "-".to_owned(), bytes);
        let rows = [
            ("memory now", bytes(self.memory_bytes)),
            ("memory peak", peak),
            ("memory limit hits", self.memory_limit_hits.to_string()),
            ("OOM kills", self.oom_kills.to_string()),
            ("CPU time", ms(self.cpu_usage_ns)),
            ("CPU periods", self.cpu_periods.to_string()),
            ("throttled periods", self.cpu_throttled_periods.to_string()),
            ("throttled time", ms(self.cpu_throttled_ns)),
            ("pids now", self.pids.to_string()),
            (
                "pids peak",
                self.pids_peak
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            ),
            ("refused forks", self.pids_limit_hits.to_string()),
        ];
        for (name, value) in rows {
            writeln!(f, "{name:<18} {value:>12}")?;
        }
        Ok(())
    }
}

fn bytes(n: u64) -> String {
    let short = format_size(n);
    if short.ends_with(char::is_alphabetic) {
        short.to_ascii_uppercase() + "iB"
    } else if n >= 1 << 20 {
        format!("{:.1}MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1}KiB", n as f64 / f64::from(1 << 10))
    } else {
        format!("{n}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_json_carry_every_counter() {
        let stats = Stats {
            memory_bytes: 1 << 20,
            memory_peak_bytes: Some(67_108_000),
            oom_kills: 1,
            cpu_usage_ns: 2_500_000,
            ..Stats::default()
        };
        let table = stats.to_string();
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("memory now") && l.ends_with(" 1MiB")),
            "{table}"
        );
        assert!(table.contains("64.0MiB"), "{table}");
        assert!(table.contains("2.5 ms"), "{table}");
        let json = serde_json::to_value(stats).unwrap();
        assert_eq!(json["oom_kills"], 1);
        assert_eq!(json["memory_peak_bytes"], 67_108_000);
        assert!(stats.oom_killed());
    }
}
