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
        let mut things = BTreeSet::new();
        let work = world.work.to_string_lossy().into_owned();
        for point in crate::host::mount_points() {
            if point.starts_with(&work) {
                things.insert(format!("mount {point}"));
            }
        }
        for parent in cgroup_parents() {
            for dir in subdirs(&parent) {
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
        Snapshot(things)
    }

    /// What is in `self` and was not in `before`.
    pub fn new_since(&self, before: &Snapshot) -> Vec<String> {
        self.0.difference(&before.0).cloned().collect()
    }
}

/// The directories that hold the suite's container cgroups: vessel's (below our own
/// cgroup in each hierarchy) and the OCI runtimes' (below our memory cgroup's path).
pub fn cgroup_parents() -> Vec<PathBuf> {
    let mut parents = Vec::new();
    match Layout::of_this_process() {
        Ok(Layout::V1(hierarchies)) => {
            let memory_rel = hierarchies
                .iter()
                .find(|h| h.controllers.iter().any(|c| c == "memory"))
                .and_then(|h| h.own.strip_prefix(&h.mount).ok().map(Path::to_owned))
                .unwrap_or_default();
            for h in &hierarchies {
                parents.push(h.own.join(CGROUP_PARENT));
                parents.push(h.mount.join(&memory_rel).join(CGROUP_PARENT));
            }
        }
        Ok(Layout::V2 { own, .. }) => parents.push(own.join(CGROUP_PARENT)),
        Err(_) => {}
    }
    parents.sort();
    parents.dedup();
    parents
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
