//! The leak check: after the whole test run, the host has no mount and no vessel cgroup
//! that it did not have before.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use crate::own_cgroups;

/// What the host looked like at one moment.
#[derive(Debug)]
pub struct Snapshot {
    mounts: BTreeSet<String>,
    cgroups: BTreeSet<PathBuf>,
}

impl Snapshot {
    /// Records the mount points and the vessel cgroups that exist now.
    pub fn take() -> Snapshot {
        Snapshot {
            mounts: mount_points(),
            cgroups: vessel_cgroups(),
        }
    }

    /// Fails, naming them, if mounts or cgroups appeared since `before`.
    pub fn compare(&self, before: &Snapshot) -> Result<(), String> {
        let mounts: Vec<_> = self.mounts.difference(&before.mounts).collect();
        let cgroups: Vec<_> = self.cgroups.difference(&before.cgroups).collect();
        if mounts.is_empty() && cgroups.is_empty() {
            println!("xtask: leak check: no new mounts, no new vessel cgroups");
            return Ok(());
        }
        Err(format!(
            "the tests left things behind:\n  mounts: {mounts:?}\n  cgroups: {cgroups:?}"
        ))
    }
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
