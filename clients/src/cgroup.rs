//! Where a client may put cgroups: under this process's own cgroup, never at a
//! hierarchy's root. On this project's machines the memory hierarchy places us somewhere
//! deep (`/process_api/<id>`) while the other v1 hierarchies say `/`; the memory line is
//! the one that tells where we really are, and every client gets one parent path for all
//! hierarchies (podman's `--cgroup-parent`, `ctr run --cgroup`, dockerd's
//! `--cgroup-parent` all take one path).

use std::path::PathBuf;

/// This process's cgroup as `/proc/self/cgroup` names it: the memory hierarchy's line on
/// v1 or hybrid hosts, the unified `0::` line otherwise.
pub fn own_cgroup() -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path_of = |want: &dyn Fn(&str) -> bool| {
        text.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            want(controllers).then(|| PathBuf::from(path))
        })
    };
    path_of(&|c| c.split(',').any(|c| c == "memory"))
        .or_else(|| path_of(&|c| c.is_empty()))
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// A cgroup parent for one client run: `<own cgroup>/<name>-<pid>-<n>`, so no two
/// harnesses (tests run on threads, and in several processes) ever share it.
pub fn parent_for(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    own_cgroup().join(format!("{name}-{}-{n}", std::process::id()))
}

/// Removes the directories a client left under `parent` in every mounted hierarchy
/// (empty cgroups only: `rmdir` of a cgroup with processes fails and is left alone).
pub fn remove_tree(parent: &std::path::Path) {
    let relative = parent.strip_prefix("/").unwrap_or(parent);
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for hierarchy in hierarchies.flatten() {
        let top = hierarchy.path().join(relative);
        remove_depth_first(&top);
    }
    remove_depth_first(&PathBuf::from("/sys/fs/cgroup").join(relative));
}

fn remove_depth_first(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_depth_first(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
