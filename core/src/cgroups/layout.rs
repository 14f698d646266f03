//! Where the cgroup hierarchies are and where this process sits in them.
//!
//! * **Version**: `statfs("/sys/fs/cgroup")` says which world we are in. `cgroup2fs`
//!   there means the unified v2 hierarchy; a `tmpfs` there holds one v1 hierarchy per
//!   controller (`/sys/fs/cgroup/memory`, …), possibly with an extra v2 mount at
//!   `/sys/fs/cgroup/unified` ("hybrid", where the controllers still live in v1).
//! * **Mount points**: `/proc/self/mountinfo` names each cgroup mount and its controllers.
//! * **Our own place**: `/proc/self/cgroup` has one line per hierarchy,
//!   `ID:CONTROLLERS:PATH` (`4:memory:/process_api/97e6…`, or `0::/user.slice/…` for v2).
//!
//! Containers go *under* our own cgroup in each hierarchy, never at a root.

use std::io;
use std::path::{Path, PathBuf};

use super::error::{CgroupError, CgroupStep, Lack, Result};

/// The cgroup world of this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Only v1 hierarchies.
    V1,
    /// v1 hierarchies for the controllers, plus an (empty) v2 hierarchy.
    Hybrid,
    /// The unified v2 hierarchy.
    V2,
}

/// The v1 controllers vessel manages (others, like `net_cls`, are left as the container
/// inherits them). `devices` holds the container's device allow-list, `blkio` its
/// block I/O weight.
pub const V1_CONTROLLERS: [&str; 8] = [
    "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices", "blkio",
];

/// The v2 controllers vessel enables for its containers.
pub const V2_CONTROLLERS: [&str; 5] = ["memory", "cpu", "cpuset", "pids", "io"];

// ANCHOR: detect
/// Tells v1, hybrid and v2 apart by the filesystem type mounted at `root`.
pub fn detect(root: &Path) -> io::Result<Version> {
    let magic = fs_magic(root)?;
    if magic == libc::CGROUP2_SUPER_MAGIC {
        return Ok(Version::V2);
    }
    if magic != libc::TMPFS_MAGIC {
        let root = root.to_owned();
        return Err(io::Error::other(Lack::NotCgroupFs { root, magic }));
    }
    let unified = root.join("unified");
    match fs_magic(&unified) {
        Ok(m) if m == libc::CGROUP2_SUPER_MAGIC => Ok(Version::Hybrid),
        _ => Ok(Version::V1),
    }
}
// ANCHOR_END: detect

fn fs_magic(path: &Path) -> io::Result<libc::c_long> {
    let cpath = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `cpath` is a NUL-terminated string that outlives the call and `stat` is
    // writable memory of the size statfs fills in.
    if unsafe { libc::statfs(cpath.as_ptr(), stat.as_mut_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statfs returned 0, so it filled in the whole struct.
    Ok(unsafe { stat.assume_init() }.f_type as libc::c_long)
}

/// One v1 hierarchy: its controllers, where it is mounted, and our cgroup in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Controllers attached to this hierarchy (`cpu` and `cpuacct` are often together).
    pub controllers: Vec<String>,
    /// Mount point, e.g. `/sys/fs/cgroup/memory`.
    pub mount: PathBuf,
    /// Our own cgroup's directory, e.g. `/sys/fs/cgroup/memory/process_api/97e6…`.
    pub own: PathBuf,
}

/// Where the hierarchies are and where we sit in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The controllers are in v1 hierarchies (v1 or hybrid hosts).
    V1(Vec<V1Hierarchy>),
    /// The unified hierarchy: its mount point and our own cgroup's directory.
    V2 { mount: PathBuf, own: PathBuf },
}

impl Layout {
    /// The layout of the running process, from statfs, mountinfo and `/proc/self/cgroup`.
    /// (The controllers' layout; [`Layout::for_container`] says where a container goes.)
    pub fn of_this_process() -> Result<Layout> {
        let (version, mountinfo, proc_cgroup) = Layout::read_this_process()?;
        Layout::from_texts(version, &mountinfo, &proc_cgroup)
    }

    // ANCHOR: for_container
    /// The layout a container's cgroup goes in. On a hybrid host the controllers live in
    /// the v1 hierarchies, so a container that needs one gets v1 cgroups; one that needs
    /// none (no limits, no counters: a root container's cgroup that only holds its device
    /// program, freezes and kills) gets a single cgroup in the unified hierarchy, under
    /// our own `0::` cgroup. There the child is born in it with `CLONE_INTO_CGROUP`:
    /// moving a process into v1 cgroups costs 12–25 ms in the kernel (the write side of a
    /// percpu rwsem waits for an RCU grace period), more than the rest of a start.
    pub fn for_container(needs_controllers: bool) -> Result<Layout> {
        let (version, mountinfo, proc_cgroup) = Layout::read_this_process()?;
        let version = match version {
            Version::Hybrid if !needs_controllers => Version::V2,
            other => other,
        };
        Layout::from_texts(version, &mountinfo, &proc_cgroup)
    }
    // ANCHOR_END: for_container

    fn read_this_process() -> Result<(Version, String, String)> {
        let root = Path::new("/sys/fs/cgroup");
        let version = detect(root).map_err(CgroupError::io(CgroupStep::DetectVersion))?;
        let read = |file: &str| {
            std::fs::read_to_string(file).map_err(CgroupError::io(CgroupStep::Read(file.into())))
        };
        Ok((
            version,
            read("/proc/self/mountinfo")?,
            read("/proc/self/cgroup")?,
        ))
    }

    // ANCHOR: own_cgroup
    /// Builds the layout from the text of `/proc/self/mountinfo` and `/proc/self/cgroup`.
    pub fn from_texts(version: Version, mountinfo: &str, proc_cgroup: &str) -> Result<Layout> {
        let mounts = cgroup_mounts(mountinfo);
        // `ID:CONTROLLERS:PATH`; the path may itself contain ':'.
        let own_paths: Vec<(Vec<&str>, &str)> = proc_cgroup
            .lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                Some((
                    controllers.split(',').filter(|c| !c.is_empty()).collect(),
                    path,
                ))
            })
            .collect();
        let missing = |lack: Lack| CgroupError::lacking(CgroupStep::FindOwn, lack);
        if version == Version::V2 {
            let (_, path) = own_paths
                .iter()
                .find(|(controllers, _)| controllers.is_empty())
                .ok_or_else(|| missing(Lack::NoUnifiedLine))?;
            let mount = mounts
                .iter()
                .find(|m| m.v2)
                .ok_or_else(|| missing(Lack::NoCgroup2Mount))?;
            return Ok(Layout::V2 {
                own: mount.dir_of(path),
                mount: mount.point.clone(),
            });
        }
        let mut hierarchies = Vec::new();
        for (controllers, path) in &own_paths {
            if !controllers.iter().any(|c| V1_CONTROLLERS.contains(c)) {
                continue;
            }
            let Some(mount) = mounts.iter().find(|m| {
                !m.v2
                    && m.controllers
                        .iter()
                        .any(|c| controllers.contains(&c.as_str()))
            }) else {
                continue;
            };
            hierarchies.push(V1Hierarchy {
                controllers: controllers.iter().map(|c| (*c).to_owned()).collect(),
                mount: mount.point.clone(),
                own: mount.dir_of(path),
            });
        }
        if hierarchies.is_empty() {
            return Err(missing(Lack::NoV1Hierarchy));
        }
        Ok(Layout::V1(hierarchies))
    }
    // ANCHOR_END: own_cgroup
}

/// One cgroup filesystem from mountinfo.
struct CgroupMount {
    /// The directory of the hierarchy this mount shows (not `/` inside a cgroup namespace).
    root: String,
    point: PathBuf,
    v2: bool,
    controllers: Vec<String>,
}

impl CgroupMount {
    /// The directory of the cgroup at `path` (as `/proc/self/cgroup` writes it).
    fn dir_of(&self, path: &str) -> PathBuf {
        let inside = path.strip_prefix(self.root.as_str()).unwrap_or(path);
        self.point.join(inside.trim_start_matches('/'))
    }
}

/// The cgroup and cgroup2 mounts in a mountinfo text:
/// `ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS…] - FSTYPE SOURCE SUPER_OPTIONS`.
fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (root, point) = (*left.get(3)?, *left.get(4)?);
            let (fstype, options) = (*right.first()?, *right.get(2)?);
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            Some(CgroupMount {
                root: root.to_owned(),
                point: PathBuf::from(point),
                v2,
                controllers: options.split(',').map(str::to_owned).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_V1: &str = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/cpu rw shared:5 - cgroup cgroup rw,cpu
33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
35 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
";
    const PROC_CGROUP_V1: &str = "\
9:name=systemd:/
8:pids:/
4:memory:/process_api/97e6
1:cpu:/
0::/
";

    #[test]
    fn v1_places_each_controller_under_its_own_path() {
        let layout = Layout::from_texts(Version::Hybrid, MOUNTINFO_V1, PROC_CGROUP_V1).unwrap();
        let Layout::V1(h) = layout else {
            panic!("expected v1")
        };
        let found: Vec<(String, PathBuf)> = h
            .iter()
            .map(|h| (h.controllers.join(","), h.own.clone()))
            .collect();
        assert_eq!(
            found,
            [
                ("pids".to_owned(), PathBuf::from("/sys/fs/cgroup/pids")),
                (
                    "memory".to_owned(),
                    PathBuf::from("/sys/fs/cgroup/memory/process_api/97e6")
                ),
                ("cpu".to_owned(), PathBuf::from("/sys/fs/cgroup/cpu")),
            ]
        );
    }

    #[test]
    fn co_mounted_controllers_share_one_hierarchy() {
        // The common systemd layout: cpu and cpuacct in one hierarchy, named for both.
        let mountinfo =
            "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let layout =
            Layout::from_texts(Version::V1, mountinfo, "3:cpu,cpuacct:/user.slice\n").unwrap();
        let Layout::V1(h) = layout else {
            panic!("expected v1")
        };
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(h[0].own, Path::new("/sys/fs/cgroup/cpu,cpuacct/user.slice"));
    }

    #[test]
    fn v2_uses_the_unified_line_and_a_namespaced_root() {
        let mountinfo =
            "40 30 0:27 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let layout =
            Layout::from_texts(Version::V2, mountinfo, "0::/user.slice/session-1.scope\n").unwrap();
        assert_eq!(
            layout,
            Layout::V2 {
                mount: PathBuf::from("/sys/fs/cgroup"),
                own: PathBuf::from("/sys/fs/cgroup/session-1.scope"),
            }
        );
    }

    #[test]
    fn a_missing_hierarchy_is_an_error_that_says_so() {
        let error = Layout::from_texts(Version::V2, MOUNTINFO_V1, "1:cpu:/\n").unwrap_err();
        assert!(crate::error_chain::chain(&error).contains("no `0::` line"));
    }

    #[test]
    fn this_host_is_detected() {
        let version = detect(Path::new("/sys/fs/cgroup")).unwrap();
        let layout = Layout::of_this_process().unwrap();
        match version {
            Version::V2 => assert!(matches!(layout, Layout::V2 { .. })),
            Version::V1 | Version::Hybrid => assert!(matches!(layout, Layout::V1(_))),
        }
    }
}
