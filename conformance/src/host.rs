//! The host's side of the comparisons: its namespaces, mounts, hostname.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// `/proc/self/ns/NAME` of this (host) process, e.g. `pid:[4026531836]`.
pub fn ns(name: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{name}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The mount points in the host's mount table.
pub fn mount_points() -> Vec<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(unescape))
        .collect()
}

/// The host's mounts at or below `dir`, by mount id (a mount stacked on a point
/// already there is new too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts(pub BTreeSet<String>);

/// See [`Mounts`].
pub fn mounts_below(dir: &Path) -> Mounts {
    let dir = dir.display().to_string();
    Mounts(
        fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let point = mount_point(l);
                let id = l.split(' ').next()?;
                point
                    .starts_with(&dir)
                    .then(|| format!("{point} (id {id})"))
            })
            .collect(),
    )
}

impl Mounts {
    /// The mounts in `self` that were not in `before`.
    pub fn new_since(&self, before: &Mounts) -> Vec<String> {
        self.0.difference(&before.0).cloned().collect()
    }
}

/// The mount point field of one mountinfo line.
pub fn mount_point(line: &str) -> String {
    line.split(' ').nth(4).map(unescape).unwrap_or_default()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The host's hostname.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Every pid on the host whose `/proc/PID/ns/NAME` link is `link`.
pub fn pids_in_ns(name: &str, link: &str) -> Vec<i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/ns/{name}"))
                .is_ok_and(|l| l.display().to_string() == link)
        })
        .collect()
}

/// The host pid of the process numbered `ns_pid` in the PID namespace `pidns` (a
/// `pid:[…]` link), from the `NSpid` line of `/proc/PID/status`.
pub fn pid_in_ns(pidns: &str, ns_pid: i64) -> Option<i32> {
    pids_in_ns("pid", pidns).into_iter().find(|pid| {
        fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|ids| ids.split_whitespace().last()?.parse::<i64>().ok())
            == Some(ns_pid)
    })
}

/// `clock` now, in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live timespec for clock_gettime to fill in.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}
