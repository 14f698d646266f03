//! The leak check: after the whole test run, the host has no mount, vessel cgroup,
//! container layer, state record, network interface (a container's veth above all) or
//! named network namespace that it did not have before, no address still leased in
//! vessel's network state, and no container's rule in vessel's nftables table.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use crate::own_cgroups;

/// What the host looked like at one moment.
#[derive(Debug)]
pub struct Snapshot {
    mounts: BTreeSet<String>,
    cgroups: BTreeSet<PathBuf>,
    /// Container layers, state records and named network namespaces.
    files: BTreeSet<PathBuf>,
    links: BTreeSet<String>,
    /// Containers holding an address in vessel's network state (any namespace's).
    addresses: BTreeSet<String>,
    /// Rules of vessel's nftables table that belong to a container (a port mapping).
    nft_rules: BTreeSet<String>,
}

/// The default bridge stays once made, as docker0 does: not a leak. Every other vessel
/// bridge belongs to a user network, which the tests that make one also remove.
const PERSISTENT_LINKS: [&str; 1] = ["vessel0"];

/// Where vessel keeps its network state, one directory per network namespace.
const NET_STATE_DIR: &str = "/run/vessel-net";

/// Directories whose entries belong to containers: each must be as empty afterwards as
/// it was before.
const CONTAINER_DIRS: [&str; 3] = ["/var/lib/vessel/containers", "/run/vessel", "/run/netns"];

impl Snapshot {
    /// Records the mount points and the vessel cgroups that exist now.
    pub fn take() -> Snapshot {
        Snapshot {
            mounts: mount_points(),
            cgroups: vessel_cgroups(),
            files: CONTAINER_DIRS.iter().flat_map(|dir| entries(dir)).collect(),
            links: network_links(),
            addresses: leased_addresses(),
            nft_rules: container_rules(),
        }
    }

    /// Fails, naming them, if anything appeared since `before`.
    pub fn compare(&self, before: &Snapshot) -> Result<(), String> {
        let new = |after: &BTreeSet<String>, before: &BTreeSet<String>| -> Vec<String> {
            after.difference(before).cloned().collect()
        };
        let paths = |set: &BTreeSet<PathBuf>| -> BTreeSet<String> {
            set.iter().map(|p| p.display().to_string()).collect()
        };
        let leaks = [
            ("mounts", new(&self.mounts, &before.mounts)),
            (
                "cgroups",
                new(&paths(&self.cgroups), &paths(&before.cgroups)),
            ),
            (
                "container files",
                new(&paths(&self.files), &paths(&before.files)),
            ),
            (
                "network interfaces",
                new(&self.links, &before.links)
                    .into_iter()
                    .filter(|l| !PERSISTENT_LINKS.contains(&l.as_str()))
                    .collect(),
            ),
            ("leased addresses", new(&self.addresses, &before.addresses)),
            ("nftables rules", new(&self.nft_rules, &before.nft_rules)),
        ];
        let found: Vec<String> = leaks
            .iter()
            .filter(|(_, items)| !items.is_empty())
            .map(|(what, items)| format!("{what}: {items:?}"))
            .collect();
        if found.is_empty() {
            println!(
                "xtask: leak check: no new mounts, cgroups, container files, network interfaces, leased addresses or nftables rules"
            );
            return Ok(());
        }
        Err(format!(
            "the tests left things behind:\n  {}",
            found.join("\n  ")
        ))
    }
}

/// The entries of `dir`, but not the run directory's `.lock`: the first `vessel run`
/// makes it and it stays, as `flock`'s anchor, describing no container.
fn entries(dir: &str) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with(".lock"))
        .collect()
}

/// Network interface names in our namespace, from `/sys/class/net`.
fn network_links() -> BTreeSet<String> {
    entries("/sys/class/net")
        .into_iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect()
}

/// `mount point + source` of every mount in our namespace.
fn mount_points() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            format!(
                "{} {}",
                fields.get(4).unwrap_or(&"?"),
                fields.get(3).unwrap_or(&"?")
            )
        })
        .collect()
}

/// Every directory below a `vessel` cgroup under our own cgroup, in every hierarchy.
fn vessel_cgroups() -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for own in own_cgroups::dirs() {
        collect_dirs(&own.join("vessel"), &mut found);
    }
    found
}

fn collect_dirs(dir: &PathBuf, found: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dirs(&path, found);
            found.insert(path);
        }
    }
}

/// `NETNS-DIR: IP (container)` for every address leased in vessel's network state.
fn leased_addresses() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for dir in entries(NET_STATE_DIR) {
        let Ok(text) = fs::read_to_string(dir.join("state.json")) else {
            continue;
        };
        let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else {
            found.insert(format!("{}: unreadable state", dir.display()));
            continue;
        };
        for a in state["allocations"].as_array().into_iter().flatten() {
            found.insert(format!(
                "{}: {} ({})",
                dir.display(),
                a["ip"].as_str().unwrap_or("?"),
                a["container"].as_str().unwrap_or("?")
            ));
        }
    }
    found
}

/// The rules of vessel's table whose comment names a container (every rule but the
/// table's own jumps, commented `vessel`, and a network's, commented `net:NAME`).
fn container_rules() -> BTreeSet<String> {
    let Ok(out) = std::process::Command::new("nft")
        .args(["list", "table", "ip", "vessel"])
        .output()
    else {
        return BTreeSet::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.contains("comment \"")
                && !l.contains("comment \"vessel\"")
                && !l.contains("comment \"net:")
        })
        .map(str::to_owned)
        .collect()
}
