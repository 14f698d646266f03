//! The eight Linux namespace types, and sets of them.
//!
//! Each namespace type changes one thing a process sees. The kernel keeps one pointer per
//! type in the process's `struct nsproxy` (plus the user namespace in its credentials), and
//! shows each one as a file in `/proc/PID/ns/`, whose inode number identifies the namespace.

pub mod error;
pub mod hostname;
pub mod time;
pub mod user;

use std::fmt;

/// One kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// Hostname and NIS domain name (`CLONE_NEWUTS`).
    Uts,
    /// Process ids: the first process is PID 1 (`CLONE_NEWPID`).
    Pid,
    /// The mount table (`CLONE_NEWNS`).
    Mount,
    /// System V IPC objects and POSIX message queues (`CLONE_NEWIPC`).
    Ipc,
    /// Network devices, addresses, routes, ports (`CLONE_NEWNET`).
    Network,
    /// User and group ids, and the capabilities that go with them (`CLONE_NEWUSER`).
    User,
    /// The root of the cgroup tree as seen in `/proc/self/cgroup` (`CLONE_NEWCGROUP`).
    Cgroup,
    /// Offsets of `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` (`CLONE_NEWTIME`).
    Time,
}

impl Namespace {
    /// Every namespace type, in the order `lsns` lists them.
    pub const ALL: [Namespace; 8] = [
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Pid,
        Namespace::Network,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ];

    /// The `clone(2)` flag that creates a namespace of this type.
    pub fn clone_flag(self) -> u64 {
        let flag = match self {
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Network => libc::CLONE_NEWNET,
            Namespace::User => libc::CLONE_NEWUSER,
            Namespace::Cgroup => libc::CLONE_NEWCGROUP,
            Namespace::Time => libc::CLONE_NEWTIME,
        };
        // The flags are positive `c_int` bit masks; widening to u64 keeps every bit.
        flag as u64
    }

    /// The file name under `/proc/PID/ns/` (`uts`, `pid`, `mnt`, …).
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
            Namespace::Mount => "mnt",
            Namespace::Ipc => "ipc",
            Namespace::Network => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
            Namespace::Time => "time",
        }
    }

    /// Parses the names users type: the `/proc/PID/ns` names plus a few long forms.
    pub fn from_name(name: &str) -> Option<Namespace> {
        let ns = match name {
            "uts" => Namespace::Uts,
            "pid" => Namespace::Pid,
            "mnt" | "mount" => Namespace::Mount,
            "ipc" => Namespace::Ipc,
            "net" | "network" => Namespace::Network,
            "user" => Namespace::User,
            "cgroup" => Namespace::Cgroup,
            "time" => Namespace::Time,
            _ => return None,
        };
        Some(ns)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

/// A set of namespace types, kept as the `clone(2)` flags that create them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Namespaces {
    flags: u64,
}

impl Namespaces {
    /// No new namespaces: the child shares all of the caller's.
    pub const fn empty() -> Self {
        Namespaces { flags: 0 }
    }

    /// What `vessel run` isolates by default: everything that needs no extra set-up from
    /// the parent (user and time namespaces need id maps and clock offsets; network gets
    /// its own set-up in the networking lesson).
    pub fn container_default() -> Self {
        [
            Namespace::Mount,
            Namespace::Uts,
            Namespace::Ipc,
            Namespace::Pid,
        ]
        .into_iter()
        .collect()
    }

    /// This set with `ns` added.
    #[must_use]
    pub fn with(mut self, ns: Namespace) -> Self {
        self.flags |= ns.clone_flag();
        self
    }

    /// This set with `ns` removed.
    #[must_use]
    pub fn without(mut self, ns: Namespace) -> Self {
        self.flags &= !ns.clone_flag();
        self
    }

    /// Whether `ns` is in the set.
    pub fn contains(self, ns: Namespace) -> bool {
        self.flags & ns.clone_flag() != 0
    }

    /// The `clone3` flags for this set.
    pub fn clone_flags(self) -> u64 {
        self.flags
    }

    /// The members, in [`Namespace::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Namespace> {
        Namespace::ALL
            .into_iter()
            .filter(move |ns| self.contains(*ns))
    }
}

impl FromIterator<Namespace> for Namespaces {
    fn from_iter<I: IntoIterator<Item = Namespace>>(iter: I) -> Self {
        iter.into_iter().fold(Namespaces::empty(), Namespaces::with)
    }
}

impl fmt::Display for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Namespace::proc_name).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_namespace_has_a_distinct_flag_and_round_trips_by_name() {
        let all: Namespaces = Namespace::ALL.into_iter().collect();
        assert_eq!(all.iter().count(), 8);
        for ns in Namespace::ALL {
            assert_eq!(Namespace::from_name(ns.proc_name()), Some(ns));
            assert!(!all.without(ns).contains(ns));
        }
    }

    #[test]
    fn default_set_is_mount_uts_ipc_pid() {
        assert_eq!(
            Namespaces::container_default().to_string(),
            "mnt,uts,ipc,pid"
        );
    }
}
