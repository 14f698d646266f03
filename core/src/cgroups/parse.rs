//! Reading and writing the values people type for limits: sizes (`64m`), CPU fractions
//! (`0.2`) and CPU lists (`0-3,5`).
//!
//! Each parser has a formatter that gives its canonical form back, and every accepted
//! string means the same after a round trip (the proptests below check it). A rejected
//! string gets a reason that says what is wrong and what would be right; the caller adds
//! which option it came from (see [`ResourceError`](super::ResourceError)).

use std::collections::BTreeSet;
use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
