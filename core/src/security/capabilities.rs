//! Linux capabilities: which of root's privileges the container's process keeps.
//!
//! Root in a container is still root to the kernel: without a user namespace it is the
//! host's root. What makes it less dangerous is the capability sets (capabilities(7)):
//! a container keeps docker's 14 default capabilities (enough to chown, bind port 80
//! or change uid) and loses the rest — no `mount`, no `sethostname`, no module loading,
//! no `ptrace` of the host. The child drops them as its very last steps before
//! `execve`, after everything that needed them (mounts, `pivot_root`, `sethostname`).

use std::fmt;

/// Capability names by number (`CAP_CHOWN` is 0), without the `CAP_` prefix, as
/// `linux/capability.h` numbers them up to `CAP_CHECKPOINT_RESTORE` (40).
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A set of capabilities, one bit per capability number (the kernel's own layout, as
/// `/proc/PID/status` prints it in hex).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapSet(pub u64);

// ANCHOR: docker_default
/// The capabilities a docker container keeps by default (moby's `oci/defaults.go`):
/// everything else is dropped from every set.
pub const DOCKER_DEFAULT: CapSet = CapSet::of(&[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
]);
// ANCHOR_END: docker_default

impl CapSet {
    /// No capability.
    pub const EMPTY: CapSet = CapSet(0);

    /// The set of these names (without `CAP_`, upper case); panics at compile time on a
    /// name that is not in [`NAMES`].
    pub const fn of(names: &[&str]) -> CapSet {
        let mut bits = 0;
        let mut i = 0;
        while i < names.len() {
            match number_of(names[i].as_bytes()) {
                Some(cap) => bits |= 1 << cap,
                None => panic!("unknown capability name"),
            }
            i += 1;
        }
        CapSet(bits)
    }

    /// Every capability the running kernel knows (0 to `/proc/sys/kernel/cap_last_cap`).
    pub fn all_known() -> CapSet {
        CapSet::up_to(last_cap())
    }

    /// Capabilities 0 to `last`.
    pub fn up_to(last: u32) -> CapSet {
        CapSet(u64::MAX >> (63 - last.min(63)))
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    /// The set with `cap` added.
    #[must_use]
    pub fn with(self, cap: u32) -> CapSet {
        CapSet(self.0 | (1 << cap))
    }

    /// The set without `cap`.
    #[must_use]
    pub fn without(self, cap: u32) -> CapSet {
        CapSet(self.0 & !(1 << cap))
    }

    /// The capabilities in both sets.
    #[must_use]
    pub fn and(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }

    /// The capabilities in `self` that `other` lacks.
    #[must_use]
    pub fn minus(self, other: CapSet) -> CapSet {
        CapSet(self.0 & !other.0)
    }

    /// Whether every capability of `self` is in `other`.
    pub fn is_subset_of(self, other: CapSet) -> bool {
        self.minus(other).0 == 0
    }

    /// The capability numbers in the set, lowest first.
    pub fn numbers(self) -> impl Iterator<Item = u32> {
        (0..64).filter(move |cap| self.contains(*cap))
    }
}

impl fmt::Debug for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapSet({self})")
    }
}

/// `CAP_CHOWN, CAP_KILL`, or `none`.
impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        let names: Vec<String> = self.numbers().map(name).collect();
        f.write_str(&names.join(", "))
    }
}

/// `CAP_NAME` for a capability number (`CAP_41` for one newer than vessel knows).
pub fn name(cap: u32) -> String {
    match NAMES.get(cap as usize) {
        Some(name) => format!("CAP_{name}"),
        None => format!("CAP_{cap}"),
    }
}

/// The number of a capability named with or without `CAP_`, in any case
/// (`net_admin`, `CAP_NET_ADMIN`), or `None` for an unknown name.
pub fn parse(name: &str) -> Option<u32> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    number_of(bare.as_bytes())
}

const fn number_of(bare: &[u8]) -> Option<u32> {
    let mut cap = 0;
    while cap < NAMES.len() {
        if eq(NAMES[cap].as_bytes(), bare) {
            return Some(cap as u32);
        }
        cap += 1;
    }
    None
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The highest capability number the running kernel knows, read once per process (it
/// cannot change while the kernel runs; every container start asks for it).
pub fn last_cap() -> u32 {
    static LAST_CAP: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST_CAP.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(NAMES.len() as u32 - 1)
    })
}

/// A name given to `--cap-add` or `--cap-drop` that is not a capability.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{flag} {name}: unknown capability (see capabilities(7); e.g. NET_ADMIN, CAP_SYS_ADMIN or ALL)"
)]
pub struct UnknownCapability {
    /// `--cap-add` or `--cap-drop`.
    pub flag: &'static str,
    /// The name as given.
    pub name: String,
}

/// One name of `--cap-add`/`--cap-drop`: a capability, or `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    All,
    One(u32),
}

fn parse_flag(flag: &'static str, name: &str) -> Result<Named, UnknownCapability> {
    if name.trim().eq_ignore_ascii_case("ALL") {
        return Ok(Named::All);
    }
    parse(name).map(Named::One).ok_or(UnknownCapability {
        flag,
        name: name.to_owned(),
    })
}

// ANCHOR: tweak
/// `base` with docker's `--cap-add`/`--cap-drop` rules applied: `--cap-add ALL` keeps
/// everything `all` holds except what is dropped; `--cap-drop ALL` keeps only what is
/// added; otherwise the drops go first and the adds win. Every name is checked first,
/// so a typo fails before anything is created.
pub fn tweak(
    base: CapSet,
    all: CapSet,
    adds: &[String],
    drops: &[String],
) -> Result<CapSet, UnknownCapability> {
    let adds = adds
        .iter()
        .map(|n| parse_flag("--cap-add", n))
        .collect::<Result<Vec<_>, _>>()?;
    let drops = drops
        .iter()
        .map(|n| parse_flag("--cap-drop", n))
        .collect::<Result<Vec<_>, _>>()?;
    let set_of = |named: &[Named]| {
        named.iter().fold(CapSet::EMPTY, |set, n| match n {
            Named::All => set,
            Named::One(cap) => set.with(*cap),
        })
    };
    let (added, dropped) = (set_of(&adds), set_of(&drops));
    Ok(if adds.contains(&Named::All) {
        all.minus(dropped)
    } else if drops.contains(&Named::All) {
        added
    } else {
        CapSet(base.minus(dropped).0 | added.0)
    })
}
// ANCHOR_END: tweak

/// The five capability sets of the container's first process (OCI's
/// `process.capabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The most any process in the container can ever gain (`PR_CAPBSET_DROP`).
    pub bounding: CapSet,
    /// What the kernel checks.
    pub effective: CapSet,
    /// What the process may make effective.
    pub permitted: CapSet,
    /// What survives `execve` of a program with matching file capabilities.
    pub inheritable: CapSet,
    /// What survives `execve` of any program (needs permitted and inheritable).
    pub ambient: CapSet,
}

impl Capabilities {
    /// `set` as bounding, effective and permitted set, with empty inheritable and
    /// ambient sets: what docker does since 20.10.14 (CVE-2022-24769: an inheritable
    /// set let programs with inheritable file capabilities gain them).
    pub fn only(set: CapSet) -> Capabilities {
        Capabilities {
            bounding: set,
            effective: set,
            permitted: set,
            inheritable: CapSet::EMPTY,
            ambient: CapSet::EMPTY,
        }
    }

    /// Docker's default set ([`DOCKER_DEFAULT`]).
    pub fn docker_default() -> Capabilities {
        Capabilities::only(DOCKER_DEFAULT)
    }

    /// These sets with `extra` added to the bounding, effective and permitted sets
    /// (what `--cap-add` does).
    #[must_use]
    pub fn adding(self, extra: CapSet) -> Capabilities {
        let add = |set: CapSet| CapSet(set.0 | extra.0);
        Capabilities {
            bounding: add(self.bounding),
            effective: add(self.effective),
            permitted: add(self.permitted),
            ..self
        }
    }

    /// Every capability in the sets (what the process needs to hold before).
    pub fn union(&self) -> CapSet {
        CapSet(
            self.bounding.0
                | self.effective.0
                | self.permitted.0
                | self.inheritable.0
                | self.ambient.0,
        )
    }

    /// Why the kernel would refuse these sets, if it would: `capset(2)` wants effective
    /// within permitted, and an ambient capability must be permitted and inheritable.
    pub fn inconsistency(&self) -> Option<String> {
        if !self.effective.is_subset_of(self.permitted) {
            return Some(format!(
                "effective has {} which permitted lacks",
                self.effective.minus(self.permitted)
            ));
        }
        let allowed = self.permitted.and(self.inheritable);
        if !self.ambient.is_subset_of(allowed) {
            return Some(format!(
                "ambient has {} which is not both permitted and inheritable",
                self.ambient.minus(allowed)
            ));
        }
        None
    }
}

/// The five sets of process `pid`, from `/proc/PID/status` (`vessel exec` gives a
/// joining process the sets of the container's first process, as docker does).
pub fn of_process(pid: libc::pid_t) -> std::io::Result<Capabilities> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("/proc/{pid}/status has no readable Cap* lines"),
        )
    })
}

/// The `Cap*:` lines of a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> Option<Capabilities> {
    let field = |name: &str| {
        let hex = status.lines().find_map(|l| l.strip_prefix(name))?;
        u64::from_str_radix(hex.trim(), 16).ok().map(CapSet)
    };
    Some(Capabilities {
        bounding: field("CapBnd:")?,
        effective: field("CapEff:")?,
        permitted: field("CapPrm:")?,
        inheritable: field("CapInh:")?,
        ambient: field("CapAmb:")?,
    })
}

/// The capabilities a container can be given: all the kernel knows when it gets a user
/// namespace (its first process holds them all there), else the caller's permitted set
/// (a process can only lower its own sets).
pub fn available(user_namespace: bool) -> CapSet {
    if user_namespace {
        return CapSet::all_known();
    }
    own().map_or(CapSet::EMPTY, |(_, permitted, _)| permitted)
}

/// The capability sets of the calling thread: `(effective, permitted, inheritable)`.
pub fn own() -> std::io::Result<(CapSet, CapSet, CapSet)> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two `CapData` (the v3 layout) into `data`, which is a live
    // array of two; `header` is a valid v3 header for the calling thread (pid 0).
    let ret = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
    if ret == -1 {
        return Err(std::io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| CapSet(u64::from(lo) | (u64::from(hi) << 32));
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two 32-bit halves.
pub const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CapHeader {
    pub version: u32,
    pub pid: libc::c_int,
}

/// `struct __user_cap_data_struct`: one 32-bit half of each set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

/// The two halves `capset` takes for these sets.
pub fn cap_data(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> [CapData; 2] {
    let half = |set: CapSet, high: bool| (if high { set.0 >> 32 } else { set.0 }) as u32;
    [false, true].map(|high| CapData {
        effective: half(effective, high),
        permitted: half(permitted, high),
        inheritable: half(inheritable, high),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_parse_with_or_without_the_prefix_in_any_case() {
        assert_eq!(parse("NET_ADMIN"), Some(12));
        assert_eq!(parse("cap_net_admin"), Some(12));
        assert_eq!(parse("Cap_Sys_Admin"), Some(21));
        assert_eq!(parse("checkpoint_restore"), Some(40));
        assert_eq!(parse("NET_ADMN"), None);
        assert_eq!(parse("CAP_"), None);
        assert_eq!(parse("ALL"), None, "ALL is a flag value, not a capability");
        for (number, bare) in NAMES.iter().enumerate() {
            assert_eq!(parse(bare), Some(number as u32));
            assert_eq!(name(number as u32), format!("CAP_{bare}"));
        }
    }

    #[test]
    fn docker_default_is_the_fourteen_capabilities() {
        assert_eq!(DOCKER_DEFAULT.numbers().count(), 14);
        // As /proc/PID/status shows it in a docker container.
        assert_eq!(DOCKER_DEFAULT.0, 0x00000000a80425fb);
        assert!(!DOCKER_DEFAULT.contains(parse("SYS_ADMIN").unwrap()));
        assert!(!DOCKER_DEFAULT.contains(parse("NET_ADMIN").unwrap()));
    }

    #[test]
    fn adds_and_drops_follow_docker() {
        let all = CapSet::up_to(40);
        let chown = CapSet::EMPTY.with(0);
        let sys_admin = parse("SYS_ADMIN").unwrap();
        let kill = parse("KILL").unwrap();
        let tweak = |adds: &[&str], drops: &[&str]| {
            tweak(DOCKER_DEFAULT, all, &names(adds), &names(drops)).unwrap()
        };
        assert_eq!(tweak(&[], &[]), DOCKER_DEFAULT);
        assert_eq!(tweak(&["sys_admin"], &[]), DOCKER_DEFAULT.with(sys_admin));
        assert_eq!(tweak(&[], &["CAP_KILL"]), DOCKER_DEFAULT.without(kill));
        assert_eq!(tweak(&["CHOWN"], &["ALL"]), chown);
        assert_eq!(tweak(&[], &["all"]), CapSet::EMPTY);
        assert_eq!(tweak(&["ALL"], &[]), all);
        assert_eq!(tweak(&["ALL"], &["KILL"]), all.without(kill));
        // Outside ALL, an add wins over a drop of the same capability, as in docker.
        assert_eq!(tweak(&["KILL"], &["KILL"]), DOCKER_DEFAULT);
    }

    #[test]
    fn an_unknown_name_says_which_flag_and_name() {
        let error = tweak(
            DOCKER_DEFAULT,
            CapSet::up_to(40),
            &names(&["CHOWN", "NET_ADMN"]),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "--cap-add NET_ADMN: unknown capability (see capabilities(7); e.g. NET_ADMIN, CAP_SYS_ADMIN or ALL)"
        );
        let error = tweak(DOCKER_DEFAULT, CapSet::up_to(40), &[], &names(&["bogus"])).unwrap_err();
        assert_eq!(error.flag, "--cap-drop");
    }

    #[test]
    fn set_arithmetic() {
        assert_eq!(CapSet::up_to(40).0, (1 << 41) - 1);
        assert_eq!(CapSet::up_to(63).0, u64::MAX);
        let set = CapSet::EMPTY.with(1).with(33);
        assert_eq!(set.numbers().collect::<Vec<_>>(), [1, 33]);
        assert!(set.is_subset_of(CapSet::up_to(40)));
        assert!(!CapSet::up_to(40).is_subset_of(set));
        assert_eq!(set.to_string(), "CAP_DAC_OVERRIDE, CAP_MAC_ADMIN");
        assert_eq!(CapSet::EMPTY.to_string(), "none");
        let [low, high] = cap_data(set, set, CapSet::EMPTY);
        assert_eq!((low.effective, high.permitted, high.inheritable), (2, 2, 0));
    }

    #[test]
    fn proc_status_lines_become_the_five_sets() {
        let status = "Name:\tsh\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\n\
                      CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n";
        assert_eq!(parse_status(status), Some(Capabilities::docker_default()));
        assert_eq!(parse_status("Name:\tsh\n"), None);
    }

    #[test]
    fn inconsistent_sets_are_named() {
        let mut caps = Capabilities::only(DOCKER_DEFAULT);
        assert_eq!(caps.inconsistency(), None);
        caps.effective = caps.effective.with(21);
        assert!(caps.inconsistency().unwrap().contains("CAP_SYS_ADMIN"));
        let mut caps = Capabilities::only(DOCKER_DEFAULT);
        caps.ambient = CapSet::EMPTY.with(0);
        assert!(caps.inconsistency().unwrap().contains("ambient"));
    }
}
