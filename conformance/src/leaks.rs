//! What a container could leave behind on the host, snapshotted before and after every
//! check: mounts under the suite's work directory, cgroups below the suite's cgroup
//! parent, named network namespaces, and OCI runtimes' state directories.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use vessel::cgroups::Layout;

use crate::runtime::oci::KNOWN;
use crate::runtime::vessel::CGROUP_PARENT;
use crate::world::World;

/// Every leak-prone thing that exists now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeSet<String>);

impl Snapshot {
    /// Takes a snapshot for `world`.
    pub fn take(world: &World) -> Snapshot {
        let parents = cgroup_parents(world.cgroup_parent.as_deref());
        let mut things = BTreeSet::new();
        // By mount id too: a mount stacked on a point already listed is a new leak.
        for mount in crate::host::mounts_below(&world.work).0 {
            things.insert(format!("mount {mount}"));
        }
        for parent in &parents {
            for dir in subdirs(parent) {
                things.insert(format!("cgroup {}", dir.display()));
            }
        }
        for dir in subdirs(Path::new("/run/netns")) {
            things.insert(format!("netns {}", dir.display()));
        }
        let ours = format!("-{}-", std::process::id());
        for runtime in KNOWN {
            for dir in subdirs(&Path::new("/run").join(runtime)) {
                if dir.to_string_lossy().contains(&ours) {
                    things.insert(format!("state {}", dir.display()));
                }
            }
        }
        // vessel's runc-style CLI keeps its containers in ROOT/oci/ID (the `oci` area).
        let vessel_oci = crate::runtime::vessel_cli::root(world).join("oci");
        for dir in subdirs(&vessel_oci) {
            things.insert(format!("state {}", dir.display()));
        }
        Snapshot(things)
    }

    /// What is in `self` and was not in `before`.
    pub fn new_since(&self, before: &Snapshot) -> Vec<String> {
        self.0.difference(&before.0).cloned().collect()
    }
}

/// The directories that hold the suite's container cgroups: `given` (a path from the
/// root) in every hierarchy, else vessel's (below our own cgroup in each hierarchy) and
/// the OCI runtimes' (below our memory cgroup's path).
pub fn cgroup_parents(given: Option<&Path>) -> Vec<PathBuf> {
    let mut parents = Vec::new();
    if let Some(given) = given {
        let relative = given.strip_prefix("/").unwrap_or(given);
        return cgroup_mounts().iter().map(|m| m.join(relative)).collect();
    }
    match Layout::of_this_process() {
        Ok(Layout::V1(hierarchies)) => {
            let memory_rel = hierarchies
                .iter()
                .find(|h| h.controllers.iter().any(|c| c == "memory"))
                .and_then(|h| h.own.strip_prefix(&h.mount).ok().map(Path::to_owned))
                .unwrap_or_default();
            for h in &hierarchies {
                parents.push(h.own.join(CGROUP_PARENT));
            }
            // The OCI runtimes create the same path in every hierarchy, managed or not
            // (blkio, devices, systemd's).
            for mount in cgroup_mounts() {
                parents.push(mount.join(&memory_rel).join(CGROUP_PARENT));
            }
            // On a hybrid host a vessel container that needs no controller has its one
            // cgroup in the unified hierarchy, below our own `0::` cgroup.
            if let Ok(Layout::V2 { own, .. }) = Layout::for_container(false) {
                parents.push(own.join(CGROUP_PARENT));
            }
        }
        Ok(Layout::V2 { own, .. }) => parents.push(own.join(CGROUP_PARENT)),
        Err(_) => {}
    }
    parents.sort();
    parents.dedup();
    parents
}

/// Every cgroup directory from each hierarchy's mount down to the suite's cgroup
/// parents, with whether it existed when recorded: runc and youki create the whole path
/// to a container's cgroup and remove only the container's own directory, so the suite
/// removes, at the end, what did not exist before it ran.
#[derive(Debug)]
pub struct CgroupPaths(Vec<(PathBuf, bool)>);

impl CgroupPaths {
    /// Records which directories exist now.
    pub fn record(given: Option<&Path>) -> CgroupPaths {
        let mut dirs = Vec::new();
        for parent in cgroup_parents(given) {
            let Some(mount) = mount_of(&parent) else {
                continue;
            };
            let mut dir = mount.clone();
            for part in parent
                .strip_prefix(&mount)
                .unwrap_or(Path::new(""))
                .components()
            {
                dir.push(part);
                if !dirs.iter().any(|(d, _)| d == &dir) {
                    dirs.push((dir.clone(), dir.is_dir()));
                }
            }
        }
        CgroupPaths(dirs)
    }

    /// Removes, deepest first, the directories that did not exist when recorded (only
    /// empty ones: `rmdir` refuses a cgroup with children or tasks).
    pub fn remove_created(&self) {
        let mut created: Vec<&PathBuf> =
            self.0.iter().filter(|(_, e)| !e).map(|(d, _)| d).collect();
        created.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in created {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Every cgroup (v1 or v2) mount point.
fn cgroup_mounts() -> Vec<PathBuf> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .map(|l| PathBuf::from(crate::host::mount_point(l)))
        .collect()
}

/// The cgroup hierarchy mount `dir` lies in.
fn mount_of(dir: &Path) -> Option<PathBuf> {
    crate::host::mount_points()
        .into_iter()
        .map(PathBuf::from)
        .filter(|m| m.starts_with("/sys/fs/cgroup") && dir.starts_with(m))
        .max_by_key(|m| m.components().count())
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() || dir.ends_with("netns"))
        .collect()
}
