//! Where the peer runtimes put the bundle's cgroup, and tidying up after them.
//!
//! Runtimes read a relative `cgroupsPath` differently (runc: below its own cgroup; youki:
//! below the hierarchy's root), so the bundle gets an absolute path below our own memory
//! cgroup: the one cgroup on this machine that is ours to fill. In the other v1
//! hierarchies the same path is created below their root, which is our own cgroup there.
//! The parents are created before the runs, so no runtime is charged for making them
//! (runc and youki leave them in place; vessel removes what it created), and every
//! directory created on the path is removed afterwards.
//!
//! On cgroup v2 (the VM of `cargo xtask vm-bench-peers`) there is one hierarchy, and
//! our own cgroup is a leaf that holds processes, which may not have children with
//! controllers: the path goes below the root instead, and the parent created there is
//! handed the memory and pids controllers the bundle's limits need.

use std::fs;
use std::path::{Path, PathBuf};

/// The bundle's cgroup path and the directories that existed before the runs.
#[derive(Debug)]
pub struct PeerCgroups {
    path: PathBuf,
    existed: Vec<PathBuf>,
}

impl PeerCgroups {
    /// Chooses the path, remembers which of its directories exist already, and creates
    /// the missing parents.
    pub fn prepare() -> PeerCgroups {
        if unified() {
            return PeerCgroups::prepare_v2();
        }
        let own_memory = fs::read_to_string("/proc/self/cgroup")
            .unwrap_or_default()
            .lines()
            .find_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                controllers
                    .split(',')
                    .any(|c| c == "memory")
                    .then(|| PathBuf::from(path))
            })
            .unwrap_or_else(|| PathBuf::from("/"));
        let path = own_memory.join("vessel-peers/bench");
        let existed = dirs_on_path(&path)
            .into_iter()
            .filter(|dir| dir.is_dir())
            .collect();
        let cgroups = PeerCgroups { path, existed };
        if let Some(parent) = cgroups.path.parent() {
            for dir in dirs_on_path(parent) {
                let _ = fs::create_dir(dir);
            }
        }
        cgroups
    }

    /// `/vessel-peers/bench` below the v2 root, its parent able to give memory and pids.
    fn prepare_v2() -> PeerCgroups {
        let path = PathBuf::from("/vessel-peers/bench");
        let existed = dirs_on_path(&path)
            .into_iter()
            .filter(|dir| dir.is_dir())
            .collect();
        let parent = Path::new(V2_ROOT).join("vessel-peers");
        let _ = fs::create_dir(&parent);
        let _ = fs::write(parent.join("cgroup.subtree_control"), "+memory +pids");
        PeerCgroups { path, existed }
    }

    /// The absolute `cgroupsPath` for the bundle.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes, deepest first, every directory on the path that did not exist before.
    pub fn remove_created(&self) {
        let mut dirs = dirs_on_path(&self.path);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in dirs.iter().filter(|d| !self.existed.contains(d)) {
            let _ = fs::remove_dir(dir);
        }
    }
}

const V2_ROOT: &str = "/sys/fs/cgroup";

/// True when /sys/fs/cgroup is the v2 hierarchy itself (not v1's, nor hybrid).
fn unified() -> bool {
    Path::new(V2_ROOT).join("cgroup.controllers").is_file()
}

/// Every directory from each hierarchy's root down to `path`: in every v1 hierarchy,
/// or in the one v2 hierarchy.
fn dirs_on_path(path: &Path) -> Vec<PathBuf> {
    let hierarchies: Vec<PathBuf> = if unified() {
        vec![PathBuf::from(V2_ROOT)]
    } else {
        fs::read_dir(V2_ROOT)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && !p.is_symlink())
            .collect()
    };
    let mut dirs = Vec::new();
    for hierarchy in hierarchies {
        let mut dir = hierarchy.clone();
        for component in path.components().skip(1) {
            dir.push(component);
            dirs.push(dir.clone());
        }
    }
    dirs
}
