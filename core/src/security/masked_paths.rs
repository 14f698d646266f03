//! docker's read-only and masked paths (moby `daemon/pkg/oci/defaults.go`).
//!
//! `/proc` and `/sys` are windows onto the whole kernel, not only the container: from a
//! writable `/proc/sys/kernel/core_pattern` container root makes the *host* kernel run a
//! program of its choosing. So, as docker, every container gets `/proc/sys`,
//! `/proc/sysrq-trigger`, `/proc/irq`, `/proc/bus` and `/proc/fs` bound read-only onto
//! themselves, and the files that leak host state (`/proc/kcore`, `/proc/keys`, …)
//! hidden under `/dev/null` or an empty read-only tmpfs. `--privileged` turns both off;
//! an OCI bundle sets its own lists (`linux.maskedPaths`, `linux.readonlyPaths`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// ANCHOR: docker_paths
/// Paths docker makes read-only in every unprivileged container.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Paths docker hides in every unprivileged container (plus each CPU's
/// `thermal_throttle` directory, see [`default_masked_paths`]).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
];
// ANCHOR_END: docker_paths

/// docker's read-only paths.
pub fn default_readonly_paths() -> Vec<PathBuf> {
    READONLY_PATHS.iter().map(PathBuf::from).collect()
}

/// docker's masked paths: [`MASKED_PATHS`] and, as docker does since its advisory
/// GHSA-6fw5-f8r9-fgfm, `/sys/devices/system/cpu/cpuN/thermal_throttle` for each CPU
/// that has one on this host (looked up once per process).
pub fn default_masked_paths() -> Vec<PathBuf> {
    static THROTTLE: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let throttle = THROTTLE.get_or_init(|| {
        let cpus = Path::new("/sys/devices/system/cpu");
        let mut found: Vec<PathBuf> = std::fs::read_dir(cpus)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name())
            .filter(|name| {
                let name = name.to_string_lossy();
                name.strip_prefix("cpu")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|name| cpus.join(name).join("thermal_throttle"))
            .filter(|path| path.exists())
            .collect();
        found.sort();
        found
    });
    MASKED_PATHS
        .iter()
        .map(PathBuf::from)
        .chain(throttle.iter().cloned())
        .collect()
}
