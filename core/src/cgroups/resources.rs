//! The limits a container may be given, and the checks that refuse impossible ones before
//! anything is created.

use std::path::Path;

use super::error::{CgroupError, CgroupStep, Lack, ResourceError};
use super::parse::{CpuSet, DEFAULT_CPU_PERIOD_US, format_cpus, format_size};

/// Limits for one container's cgroup. `None` leaves that resource unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    /// Memory limit in bytes; swap is turned off for the container at the same time,
    /// unless [`Resources::memory_and_swap_bytes`] allows some.
    pub memory_bytes: Option<u64>,
    /// Memory plus swap in bytes (an OCI bundle's `memory.swap`, docker's
    /// `--memory-swap`; `u64::MAX` for unlimited swap). `None`: no swap at all.
    pub memory_and_swap_bytes: Option<u64>,
    /// CPU time allowed per period (the CFS bandwidth controller).
    pub cpu_quota: Option<CpuQuota>,
    /// Relative CPU weight in cgroup v1 `cpu.shares` units (2..=262144, default 1024);
    /// converted to `cpu.weight` on cgroup v2.
    pub cpu_shares: Option<u64>,
    /// The CPUs the container may run on.
    pub cpuset_cpus: Option<CpuSet>,
    /// The most processes (and threads) the container may hold at once.
    pub pids_max: Option<u64>,
    /// Block I/O weight (10..=1000, docker's `--blkio-weight`; see [`super::io_weight`]).
    pub blkio_weight: Option<u64>,
}

/// `quota_us` of CPU time in every `period_us` of wall time: `20000/100000` is a fifth
/// of one CPU, `200000/100000` two whole CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuQuota {
    /// CPU time per period, in µs.
    pub quota_us: u64,
    /// Length of the period, in µs.
    pub period_us: u64,
}

impl CpuQuota {
    /// The quota `--cpus` asks for: `cpus_quota_us` per the default 100 ms period.
    pub fn per_default_period(quota_us: u64) -> CpuQuota {
        CpuQuota {
            quota_us,
            period_us: DEFAULT_CPU_PERIOD_US,
        }
    }

    /// How the user would have written this quota, for error messages.
    fn as_asked(&self) -> (String, String) {
        if self.period_us == DEFAULT_CPU_PERIOD_US {
            ("--cpus".to_owned(), format_cpus(self.quota_us))
        } else {
            (
                "--cpu-quota/--cpu-period".to_owned(),
                format!("{}/{}", self.quota_us, self.period_us),
            )
        }
    }
}

/// The smallest memory limit accepted, docker's ("Minimum memory limit allowed is 6MB"):
/// below it the runtime's own start-up (a shell, its libraries) is killed before the
/// command does anything, which reads as a mysterious OOM rather than a refused value.
pub const MIN_MEMORY_BYTES: u64 = 6 << 20;

/// The kernel's bounds for the CFS period and the smallest quota (`kernel/sched/core.c`).
const CPU_PERIOD_US: std::ops::RangeInclusive<u64> = 1_000..=1_000_000;
const MIN_CPU_QUOTA_US: u64 = 1_000;
/// The bounds the kernel puts on `cpu.shares`.
pub const CPU_SHARES: std::ops::RangeInclusive<u64> = 2..=262_144;

/// The CPUs this machine has online, from `/sys/devices/system/cpu/online`.
pub fn online_cpus() -> Result<CpuSet, CgroupError> {
    let path = Path::new("/sys/devices/system/cpu/online");
    let step = CgroupStep::Read(path.to_owned());
    let text = std::fs::read_to_string(path).map_err(CgroupError::io(step.clone()))?;
    CpuSet::parse(&text).map_err(|reason| {
        let path = path.to_owned();
        CgroupError::lacking(step, Lack::NotACpuList { path, text, reason })
    })
}

impl Resources {
    /// Whether any limit is set at all.
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }

    // ANCHOR: check
    /// Refuses limits the kernel would reject or that cannot mean anything on a machine
    /// with `online` CPUs. Runs before any cgroup exists, so a bad value creates nothing.
    pub fn check(&self, online: &CpuSet) -> Result<(), ResourceError> {
        if let Some(bytes) = self.memory_bytes
            && bytes < MIN_MEMORY_BYTES
        {
            return Err(ResourceError::new(
                "--memory",
                format_size(bytes),
                format!(
                    "below the minimum of {} (docker's minimum: less leaves too little for \
                     the command to start; ask for at least that)",
                    format_size(MIN_MEMORY_BYTES)
                ),
            ));
        }
        if let Some(cpu) = self.cpu_quota {
            let (option, value) = cpu.as_asked();
            let fail = |reason: String| Err(ResourceError::new(&option, &value, reason));
            if !CPU_PERIOD_US.contains(&cpu.period_us) {
                return fail("the period must be 1000..=1000000 µs (1 ms to 1 s)".to_owned());
            }
            if cpu.quota_us < MIN_CPU_QUOTA_US {
                return fail(
                    "at least 1000 µs per period (the kernel's minimum; 0.01 CPUs with --cpus)"
                        .to_owned(),
                );
            }
            let host = online.len() as u64;
            if cpu.quota_us > host * cpu.period_us {
                return fail(format!(
                    "more than this machine's {host} CPUs (ask for at most {host})"
                ));
            }
        }
        if let Some(shares) = self.cpu_shares
            && !CPU_SHARES.contains(&shares)
        {
            return Err(ResourceError::new(
                "--cpu-shares",
                shares.to_string(),
                "must be 2..=262144 (1024 is one normal share)",
            ));
        }
        if let Some(cpus) = &self.cpuset_cpus
            && !cpus.is_subset(online)
        {
            return Err(ResourceError::new(
                "--cpuset-cpus",
                cpus.to_string(),
                format!(
                    "CPU {} does not exist here (this machine has CPUs {online})",
                    cpus.missing_from(online)
                ),
            ));
        }
        if let Some(weight) = self.blkio_weight
            && !super::io_weight::WEIGHTS.contains(&weight)
        {
            return Err(ResourceError::new(
                "--blkio-weight",
                weight.to_string(),
                "must be 10..=1000 (docker's range; BFQ and io.weight default to 100)",
            ));
        }
        if self.pids_max == Some(0) {
            return Err(ResourceError::new(
                "--pids-limit",
                "0",
                "must be at least 1 (the container's first process counts)",
            ));
        }
        Ok(())
    }
    // ANCHOR_END: check

    /// A one-line summary such as `memory 64m, cpus 0.2, pids 16`, for lessons and logs.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(bytes) = self.memory_bytes {
            parts.push(format!("memory {}", format_size(bytes)));
        }
        if let Some(cpu) = self.cpu_quota {
            parts.push(format!("cpu {}/{} µs", cpu.quota_us, cpu.period_us));
        }
        if let Some(shares) = self.cpu_shares {
            parts.push(format!("cpu shares {shares}"));
        }
        if let Some(cpus) = &self.cpuset_cpus {
            parts.push(format!("cpuset {cpus}"));
        }
        if let Some(pids) = self.pids_max {
            parts.push(format!("pids {pids}"));
        }
        if let Some(weight) = self.blkio_weight {
            parts.push(format!("blkio weight {weight}"));
        }
        if parts.is_empty() {
            "no limits".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_cpus() -> CpuSet {
        CpuSet::parse("0-1").unwrap()
    }

    fn message(resources: Resources) -> String {
        resources.check(&two_cpus()).unwrap_err().to_string()
    }

    #[test]
    fn impossible_limits_say_why() {
        let cpus = |q| Resources {
            cpu_quota: Some(CpuQuota::per_default_period(q)),
            ..Resources::default()
        };
        assert_eq!(
            message(cpus(9_900_000)),
            "--cpus 99: more than this machine's 2 CPUs (ask for at most 2)"
        );
        assert!(message(cpus(500)).contains("at least 1000 µs"));
        let cpuset = Resources {
            cpuset_cpus: Some(CpuSet::parse("7").unwrap()),
            ..Resources::default()
        };
        assert_eq!(
            message(cpuset),
            "--cpuset-cpus 7: CPU 7 does not exist here (this machine has CPUs 0-1)"
        );
        let period = Resources {
            cpu_quota: Some(CpuQuota {
                quota_us: 5_000,
                period_us: 10,
            }),
            ..Resources::default()
        };
        assert!(message(period).starts_with("--cpu-quota/--cpu-period 5000/10: the period"));
        let shares = Resources {
            cpu_shares: Some(1),
            ..Resources::default()
        };
        assert!(message(shares).contains("2..=262144"));
        let pids = Resources {
            pids_max: Some(0),
            ..Resources::default()
        };
        assert!(message(pids).contains("at least 1"));
        let weight = |w| Resources {
            blkio_weight: Some(w),
            ..Resources::default()
        };
        assert!(message(weight(5)).starts_with("--blkio-weight 5: must be 10..=1000"));
        assert!(message(weight(1001)).contains("10..=1000"));
        assert_eq!(weight(10).check(&two_cpus()), Ok(()));
        let memory = |bytes| Resources {
            memory_bytes: Some(bytes),
            ..Resources::default()
        };
        assert!(
            message(memory(4 << 10)).starts_with("--memory 4k: below the minimum of 6m"),
            "{}",
            message(memory(4 << 10))
        );
        assert!(message(memory(0)).starts_with("--memory 0: below the minimum of 6m"));
        assert!(message(memory(MIN_MEMORY_BYTES - 1)).contains("below the minimum"));
        assert_eq!(memory(MIN_MEMORY_BYTES).check(&two_cpus()), Ok(()));
    }

    #[test]
    fn possible_limits_pass() {
        let ok = Resources {
            memory_bytes: Some(64 << 20),
            memory_and_swap_bytes: None,
            cpu_quota: Some(CpuQuota::per_default_period(200_000)),
            cpu_shares: Some(512),
            cpuset_cpus: Some(CpuSet::parse("1").unwrap()),
            pids_max: Some(16),
            blkio_weight: Some(300),
        };
        assert_eq!(ok.check(&two_cpus()), Ok(()));
        assert_eq!(
            ok.summary(),
            "memory 64m, cpu 200000/100000 µs, cpu shares 512, cpuset 1, pids 16, \
             blkio weight 300"
        );
    }

    #[test]
    fn this_machine_reports_its_online_cpus() {
        let online = online_cpus().unwrap();
        assert!(!online.is_empty());
    }
}
