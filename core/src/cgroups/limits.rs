//! The limits a container may be given, whole: how each is typed (`64m`, `0.2`,
//! `0-3,5`), the [`Resources`] that hold them, the checks that refuse impossible ones
//! before anything is created, and how each is written to its file on cgroup v1 and
//! on v2. A limit is read from the command line, checked and written here, and
//! nowhere else.
//!
//! Each parser has a formatter that gives its canonical form back, and every accepted
//! string means the same after a round trip (the proptests below check it). A rejected
//! string gets a reason that says what is wrong and what would be right; the caller adds
//! which option it came from (see [`ResourceError`]).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{CgroupError, CgroupStep, Lack, ResourceError, Result};
use super::files::{self, Written};
use super::io_weight;

/// The CFS period vessel uses for `--cpus`, as docker does: 100 ms.
pub const DEFAULT_CPU_PERIOD_US: u64 = 100_000;

/// How many decimal places a CPU fraction may have: one microsecond of a 100 ms period.
const CPU_DECIMALS: usize = 5;

/// Units a size may end in, with their multipliers.
const SIZE_UNITS: [(char, u64); 4] = [('g', 1 << 30), ('m', 1 << 20), ('k', 1 << 10), ('b', 1)];

// ANCHOR: parse_size
/// Parses a byte count such as `67108864`, `64m`, `512K` or `1g` (binary units, any case).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    if digits.is_empty() {
        return Err("expected a number with an optional unit, such as 64m".to_owned());
    }
    let multiplier = match unit {
        "" => 1,
        _ => match SIZE_UNITS.iter().find(|(u, _)| unit == u.to_string()) {
            Some((_, m)) => *m,
            None => return Err(format!("unknown unit {unit:?} (use b, k, m or g)")),
        },
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{digits} is too large"))?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text} is more bytes than fit in 64 bits"))
}
// ANCHOR_END: parse_size

/// The shortest exact form of a byte count: `67108864` → `64m`, `1000` → `1000`.
pub fn format_size(bytes: u64) -> String {
    for (unit, multiplier) in SIZE_UNITS {
        if multiplier > 1 && bytes != 0 && bytes.is_multiple_of(multiplier) {
            return format!("{}{unit}", bytes / multiplier);
        }
    }
    bytes.to_string()
}

// ANCHOR: parse_cpus
/// Parses a number of CPUs such as `0.2`, `1` or `1.5` into a CFS quota per
/// [`DEFAULT_CPU_PERIOD_US`]: `0.2` → 20000 µs of CPU time every 100000 µs. Decimal
/// arithmetic, no floats, so `0.2` is exactly 20000 and prints back as `0.2`.
pub fn parse_cpus(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return Err("expected a positive decimal number of CPUs, such as 0.5 or 2".to_owned());
    }
    if fraction.len() > CPU_DECIMALS {
        return Err(format!(
            "at most {CPU_DECIMALS} decimal places \
             (the kernel counts CPU time in µs of a 100 ms period)"
        ));
    }
    let whole: u64 = match whole {
        "" => 0,
        w => w.parse().map_err(|_| format!("{w} CPUs is too many"))?,
    };
    let scale = 10u64.pow((CPU_DECIMALS - fraction.len()) as u32);
    let fraction: u64 = match fraction {
        "" => 0,
        f => f.parse::<u64>().expect("at most 5 digits") * scale,
    };
    let quota = whole
        .checked_mul(DEFAULT_CPU_PERIOD_US)
        .and_then(|q| q.checked_add(fraction))
        .ok_or_else(|| format!("{text} CPUs is too many"))?;
    if quota == 0 {
        return Err("must be more than 0 (leave the option out for no CPU limit)".to_owned());
    }
    Ok(quota)
}
// ANCHOR_END: parse_cpus

/// A quota per [`DEFAULT_CPU_PERIOD_US`] as a number of CPUs: `20000` → `0.2`.
pub fn format_cpus(quota_us: u64) -> String {
    let whole = quota_us / DEFAULT_CPU_PERIOD_US;
    let fraction = quota_us % DEFAULT_CPU_PERIOD_US;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = CPU_DECIMALS);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A set of CPU numbers, written the way the kernel writes `cpuset.cpus`: `0-3,5`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuSet(pub BTreeSet<u32>);

/// The highest CPU number accepted in a list; the kernel's own limit is lower.
const MAX_CPU: u32 = 8191;

impl CpuSet {
    // ANCHOR: parse_cpuset
    /// Parses a list of CPUs and ranges, such as `0`, `0-3` or `0-1,4,6-7`.
    pub fn parse(text: &str) -> Result<CpuSet, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty CPU list (name CPUs such as 0 or 0-1,3)".to_owned());
        }
        let number = |s: &str| -> Result<u32, String> {
            let not_a_number =
                || format!("{s:?} is not a CPU number (name CPUs such as 0 or 0-1,3)");
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_number());
            }
            match s.parse::<u32>() {
                Ok(n) if n <= MAX_CPU => Ok(n),
                _ => Err(format!("CPU {s} is beyond the kernel's limit of {MAX_CPU}")),
            }
        };
        let mut cpus = BTreeSet::new();
        for part in text.split(',') {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => (number(part)?, number(part)?),
            };
            if first > last {
                return Err(format!(
                    "range {part} runs backwards (write it as {last}-{first})"
                ));
            }
            cpus.extend(first..=last);
        }
        Ok(CpuSet(cpus))
    }
    // ANCHOR_END: parse_cpuset

    /// Whether every CPU of `self` is also in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The CPUs of `self` that are not in `other`.
    pub fn missing_from(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.difference(&other.0).copied().collect())
    }

    /// How many CPUs the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for CpuSet {
    /// The canonical form: ascending, runs of two or more written as ranges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut cpus = self.0.iter().copied().peekable();
        let mut first = true;
        while let Some(start) = cpus.next() {
            let mut end = start;
            while cpus.peek() == Some(&(end + 1)) {
                end += 1;
                cpus.next();
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if end == start {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

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

/// How each limit is written: to the v1 file of its controller's hierarchy, or to the
/// v2 file of the one directory. Limits not set stay as they are.
impl Resources {
    // ANCHOR: set_limits_v1
    /// Writes each limit to its v1 file, in the directory `dir_of` gives for its
    /// controller, appending what it wrote to `log`; says whether a memory limit was
    /// written.
    pub(super) fn write_v1<'a>(
        &self,
        dir_of: impl Fn(&str) -> Result<&'a Path>,
        log: &mut Vec<Written>,
    ) -> Result<bool> {
        let mut put = |file: PathBuf, value: String| {
            files::write(&file, &value)?;
            log.push(Written { file, value });
            Ok::<(), CgroupError>(())
        };
        let mut memory = false;
        if let Some(bytes) = self.memory_bytes {
            memory = true;
            let dir = dir_of("memory")?;
            let limit = dir.join("memory.limit_in_bytes");
            // memory+swap: setting it equal to the memory limit leaves no swap. The kernel
            // insists memsw >= limit at every moment, so raise memsw first, lower it last.
            let memsw = dir.join("memory.memsw.limit_in_bytes");
            // With swap asked for: memory+swap as given (-1: unlimited).
            let total = match self.memory_and_swap_bytes {
                Some(u64::MAX) => "-1".to_owned(),
                Some(total) => total.max(bytes).to_string(),
                None => bytes.to_string(),
            };
            let raises = self.memory_and_swap_bytes.unwrap_or(bytes)
                > files::read_u64(&memsw).unwrap_or(u64::MAX);
            if memsw.exists() {
                if raises {
                    put(memsw.clone(), total)?;
                    put(limit, bytes.to_string())?;
                } else {
                    put(limit, bytes.to_string())?;
                    put(memsw, total)?;
                }
            } else {
                put(limit, bytes.to_string())?;
            }
        }
        if let Some(cpu) = self.cpu_quota {
            let dir = dir_of("cpu")?;
            put(dir.join("cpu.cfs_period_us"), cpu.period_us.to_string())?;
            put(dir.join("cpu.cfs_quota_us"), cpu.quota_us.to_string())?;
        }
        if let Some(shares) = self.cpu_shares {
            put(dir_of("cpu")?.join("cpu.shares"), shares.to_string())?;
        }
        if let Some(cpus) = &self.cpuset_cpus {
            put(dir_of("cpuset")?.join("cpuset.cpus"), cpus.to_string())?;
        }
        if let Some(max) = self.pids_max {
            put(dir_of("pids")?.join("pids.max"), max.to_string())?;
        }
        if let Some(weight) = self.blkio_weight {
            let dir = dir_of("blkio")?;
            let name = io_weight::file_in(dir, io_weight::V1_FILES)?;
            put(dir.join(name), weight.to_string())?;
        }
        Ok(memory)
    }
    // ANCHOR_END: set_limits_v1

    // ANCHOR: set_limits_v2
    /// Writes each limit to its v2 file in `dir`, appending what it wrote to `log`;
    /// says whether a memory limit was written.
    pub(super) fn write_v2(&self, dir: &Path, log: &mut Vec<Written>) -> Result<bool> {
        // What the parent handed down; a limit of any other controller has no file here.
        let available = std::fs::read_to_string(dir.join("cgroup.controllers")).ok();
        let mut put = |file: &str, value: String| {
            let controller = file.split('.').next().unwrap_or_default();
            if let Some(available) = &available
                && !available.split_whitespace().any(|c| c == controller)
            {
                return Err(controller_missing(dir, controller));
            }
            let file = dir.join(file);
            files::write(&file, &value)?;
            log.push(Written { file, value });
            Ok::<(), CgroupError>(())
        };
        let mut memory = false;
        if let Some(bytes) = self.memory_bytes {
            memory = true;
            put("memory.max", bytes.to_string())?;
            // v2 counts swap on its own: 0 turns it off (the file is absent without swap
            // accounting).
            if dir.join("memory.swap.max").exists() {
                let swap = match self.memory_and_swap_bytes {
                    Some(u64::MAX) => "max".to_owned(),
                    Some(total) => total.saturating_sub(bytes).to_string(),
                    None => "0".to_owned(),
                };
                put("memory.swap.max", swap)?;
            }
        }
        if let Some(cpu) = self.cpu_quota {
            put("cpu.max", format!("{} {}", cpu.quota_us, cpu.period_us))?;
        }
        if let Some(shares) = self.cpu_shares {
            put("cpu.weight", shares_to_weight(shares).to_string())?;
        }
        if let Some(cpus) = &self.cpuset_cpus {
            put("cpuset.cpus", cpus.to_string())?;
        }
        if let Some(max) = self.pids_max {
            put("pids.max", max.to_string())?;
        }
        if let Some(weight) = self.blkio_weight {
            // io.weight or io.bfq.weight, whichever policy this kernel has; without the
            // io controller neither exists, and that is the error to give.
            let io = available
                .as_deref()
                .is_none_or(|a| a.split_whitespace().any(|c| c == "io"));
            if !io {
                return Err(controller_missing(dir, "io"));
            }
            put(
                io_weight::file_in(dir, io_weight::V2_FILES)?,
                weight.to_string(),
            )?;
        }
        Ok(memory)
    }
    // ANCHOR_END: set_limits_v2
}

// ANCHOR: weight
/// cgroup v1 `cpu.shares` (2..=262144, default 1024) to v2 `cpu.weight` (1..=10000,
/// default 100), the linear map runc and crun use.
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}
// ANCHOR_END: weight

/// The error for a limit whose controller this cgroup does not have.
fn controller_missing(dir: &Path, controller: &str) -> CgroupError {
    CgroupError::lacking(
        CgroupStep::SetLimit {
            controller: controller.to_owned(),
            dir: dir.to_owned(),
        },
        Lack::ControllerNotEnabled {
            controller: controller.to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("7b"), Ok(7));
        assert_eq!(
            parse_size("64q"),
            Err(r#"unknown unit "q" (use b, k, m or g)"#.to_owned())
        );
        assert!(parse_size("m").unwrap_err().contains("expected a number"));
        assert!(parse_size("").unwrap_err().contains("expected a number"));
        assert!(parse_size("99999999999g").unwrap_err().contains("64 bits"));
        assert_eq!(format_size(64 << 20), "64m");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(format_size(0), "0");
    }

    #[test]
    fn cpus_are_exact_decimals() {
        assert_eq!(parse_cpus("0.2"), Ok(20_000));
        assert_eq!(parse_cpus("1.5"), Ok(150_000));
        assert_eq!(parse_cpus("2"), Ok(200_000));
        assert_eq!(parse_cpus(".5"), Ok(50_000));
        assert!(parse_cpus("0").unwrap_err().contains("more than 0"));
        assert!(parse_cpus("-1").unwrap_err().contains("positive decimal"));
        assert!(
            parse_cpus("0.000001")
                .unwrap_err()
                .contains("decimal places")
        );
        assert!(parse_cpus("1e3").unwrap_err().contains("positive decimal"));
        assert!(parse_cpus(".").unwrap_err().contains("positive decimal"));
        assert_eq!(format_cpus(20_000), "0.2");
        assert_eq!(format_cpus(200_000), "2");
        assert_eq!(format_cpus(1), "0.00001");
    }

    #[test]
    fn cpusets_read_like_the_kernel_writes_them() {
        let set = CpuSet::parse("0-2,5,7-8").unwrap();
        assert_eq!(
            set.0.iter().copied().collect::<Vec<_>>(),
            [0, 1, 2, 5, 7, 8]
        );
        assert_eq!(set.to_string(), "0-2,5,7-8");
        assert_eq!(CpuSet::parse("3,1,2").unwrap().to_string(), "1-3");
        assert!(
            CpuSet::parse("3-1")
                .unwrap_err()
                .contains("write it as 1-3")
        );
        assert!(CpuSet::parse("").unwrap_err().contains("empty"));
        assert!(CpuSet::parse("a").unwrap_err().contains("not a CPU number"));
        assert!(
            CpuSet::parse("0,,1")
                .unwrap_err()
                .contains("not a CPU number")
        );
        assert!(CpuSet::parse("99999").unwrap_err().contains("limit"));
    }

    proptest! {
        #[test]
        fn every_size_round_trips(bytes in any::<u64>()) {
            prop_assert_eq!(parse_size(&format_size(bytes)), Ok(bytes));
        }

        #[test]
        fn accepted_size_strings_round_trip(text in "[0-9]{0,21}[bkmgBKMGqx ]?") {
            match parse_size(&text) {
                Ok(bytes) => prop_assert_eq!(parse_size(&format_size(bytes)), Ok(bytes)),
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        #[test]
        fn every_quota_round_trips(quota in 1u64..u64::MAX / 2) {
            prop_assert_eq!(parse_cpus(&format_cpus(quota)), Ok(quota));
        }

        #[test]
        fn accepted_cpu_strings_round_trip(text in "[0-9]{0,3}(\\.[0-9]{0,7})?|[-a-z.0-9]{1,6}") {
            match parse_cpus(&text) {
                Ok(quota) => {
                    prop_assert!(quota > 0);
                    prop_assert_eq!(parse_cpus(&format_cpus(quota)), Ok(quota));
                }
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        #[test]
        fn every_cpuset_round_trips(cpus in proptest::collection::btree_set(0u32..64, 1..20)) {
            let set = CpuSet(cpus);
            prop_assert_eq!(CpuSet::parse(&set.to_string()), Ok(set));
        }

        #[test]
        fn accepted_cpuset_strings_round_trip(text in "[0-9,-]{0,12}") {
            match CpuSet::parse(&text) {
                Ok(set) => prop_assert_eq!(CpuSet::parse(&set.to_string()), Ok(set)),
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }
}
