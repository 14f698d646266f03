//! What docker gives every default container, as data: the paths it masks and makes
//! read-only, and its device cgroup allow-list. The security checks attack these, and
//! the OCI adapter asks the peers for them, so the runtime × check table compares the
//! same defaults (moby's `oci/defaults.go` and `oci/devices_linux.go`).

/// Paths docker hides: a file becomes `/dev/null`, a directory an empty read-only tmpfs.
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths docker mounts read-only: host-wide kernel knobs a container must not turn.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// One device cgroup rule: `c`/`b`/`a`, major and minor (`None` = any), access.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRule {
    /// `c`, `b` or `a`.
    pub kind: &'static str,
    /// Major number, `None` for any.
    pub major: Option<i64>,
    /// Minor number, `None` for any.
    pub minor: Option<i64>,
    /// `r`, `w`, `m` letters.
    pub access: &'static str,
}

const fn allow(
    kind: &'static str,
    major: Option<i64>,
    minor: Option<i64>,
    access: &'static str,
) -> DeviceRule {
    DeviceRule {
        kind,
        major,
        minor,
        access,
    }
}

/// docker's allow-list, after a first "deny everything": mknod of any node, and
/// read/write of null, zero, full, random, urandom, tty, console, ptmx, the ptys and tun.
pub const DEVICE_ALLOW: [DeviceRule; 12] = [
    allow("c", None, None, "m"),
    allow("b", None, None, "m"),
    allow("c", Some(1), Some(3), "rwm"),
    allow("c", Some(1), Some(5), "rwm"),
    allow("c", Some(1), Some(7), "rwm"),
    allow("c", Some(1), Some(8), "rwm"),
    allow("c", Some(1), Some(9), "rwm"),
    allow("c", Some(5), Some(0), "rwm"),
    allow("c", Some(5), Some(1), "rwm"),
    allow("c", Some(5), Some(2), "rwm"),
    allow("c", Some(136), None, "rwm"),
    allow("c", Some(10), Some(200), "rwm"),
];
