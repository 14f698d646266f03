//! `bench-peers` rows per isolation level, for vessel's own CLI (`vessel run --rm … --
//! /bin/true` on its default rootfs): what a start costs with nothing but the mount
//! namespace the root needs, with what a default container gets, and with that plus
//! docker's bridge network (a veth pair, an address lease, NAT rules).
//!
//! The peers have no such rows: an OCI runtime wires up no network of its own (podman,
//! containerd or docker do it around the runtime, with netavark or CNI), so "bridge" is
//! not a level of runc, crun or youki, and their "default" is the hardened bundle's row.

use std::path::Path;

/// How much a `vessel run` isolates its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Only a mount namespace (the rootfs needs one), the host's network, PIDs, IPC and
    /// hostname, `--privileged`: every capability, no seccomp filter, no device cgroup,
    /// no masked paths.
    None,
    /// What a default container gets (docker's hardening; mnt, uts, ipc, pid and net
    /// namespaces), with only `lo` (`--network none`) and the bundle's memory and pids
    /// limits, so it asks for the work the hardened bundle asks for.
    Default,
    /// The default level on vessel's default bridge network.
    Bridge,
}

impl Isolation {
    /// Every level, least isolated first (the table's order).
    pub const ALL: [Isolation; 3] = [Isolation::None, Isolation::Default, Isolation::Bridge];

    /// The row's name in the table.
    pub fn row_name(self) -> &'static str {
        match self {
            Isolation::None => "vessel run, isolation: none",
            Isolation::Default => "vessel run, isolation: default (--network none)",
            Isolation::Bridge => "vessel run, isolation: default + bridge network",
        }
    }

    /// The options of `vessel run` that choose the level.
    pub fn options(self) -> &'static [&'static str] {
        match self {
            Isolation::None => &["--ns", "mnt", "--privileged"],
            Isolation::Default => &["--network", "none", "-m", "256m", "--pids-limit", "64"],
            Isolation::Bridge => &["--network", "bridge", "-m", "256m", "--pids-limit", "64"],
        }
    }

    /// The whole command, `{id}` standing for the container's name; its cgroup below
    /// `cgroup_parent` if given (in the cgroup-v2 VM), else in vessel's default place.
    pub fn argv(self, vessel: &Path, cgroup_parent: Option<&Path>) -> Vec<String> {
        let mut argv = vec![
            vessel.display().to_string(),
            "run".to_owned(),
            "--rm".to_owned(),
            "--name".to_owned(),
            "{id}".to_owned(),
        ];
        if let Some(parent) = cgroup_parent {
            argv.extend(["--cgroup-parent".to_owned(), parent.display().to_string()]);
        }
        argv.extend(self.options().iter().map(|o| (*o).to_owned()));
        argv.extend(["--".to_owned(), "/bin/true".to_owned()]);
        argv
    }
}

/// One row per level in `levels`: its name and the command it times.
pub fn rows(
    vessel: &Path,
    levels: &[Isolation],
    cgroup_parent: Option<&Path>,
) -> Vec<(&'static str, Vec<String>)> {
    levels
        .iter()
        .map(|level| (level.row_name(), level.argv(vessel, cgroup_parent)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `--flag` in `options`, if given.
    fn value<'a>(options: &[&'a str], flag: &str) -> Option<&'a str> {
        options
            .iter()
            .position(|o| *o == flag)
            .and_then(|i| options.get(i + 1).copied())
    }

    #[test]
    fn each_level_adds_isolation_to_the_one_before() {
        let none = Isolation::None.options();
        let default = Isolation::Default.options();
        let bridge = Isolation::Bridge.options();
        // none: the mount namespace alone, nothing of the hardening.
        assert_eq!(value(none, "--ns"), Some("mnt"));
        assert!(none.contains(&"--privileged"));
        // default: no --ns (vessel's default namespaces), no --privileged, no network
        // but lo, the bundle's limits.
        assert!(!default.contains(&"--ns") && !default.contains(&"--privileged"));
        assert_eq!(value(default, "--network"), Some("none"));
        assert_eq!(value(default, "-m"), Some("256m"));
        assert_eq!(value(default, "--pids-limit"), Some("64"));
        // bridge: the default level but for the network.
        assert_eq!(value(bridge, "--network"), Some("bridge"));
        fn without_network(o: &'static [&'static str]) -> Vec<&'static str> {
            let at = o.iter().position(|x| *x == "--network").unwrap();
            [&o[..at], &o[at + 2..]].concat()
        }
        assert_eq!(without_network(bridge), without_network(default));
    }

    #[test]
    fn the_command_runs_true_by_name_and_removes_the_container() {
        let argv = Isolation::Bridge.argv(Path::new("/v/vessel"), None);
        assert_eq!(&argv[..5], ["/v/vessel", "run", "--rm", "--name", "{id}"]);
        assert_eq!(&argv[argv.len() - 2..], ["--", "/bin/true"]);
        assert!(!argv.contains(&"--cgroup-parent".to_owned()));
        let placed = Isolation::None.argv(Path::new("/v/vessel"), Some(Path::new("/peers")));
        assert_eq!(&placed[5..7], ["--cgroup-parent", "/peers"]);
        let names: std::collections::BTreeSet<_> =
            Isolation::ALL.iter().map(|l| l.row_name()).collect();
        assert_eq!(names.len(), 3, "two levels share a row name");
    }
}
