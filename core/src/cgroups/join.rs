//! Which cgroups `vessel exec` (the tenant) must join: the container's, where they differ from ours.
//!
//! `/proc/PID/cgroup` lists one `ID:CONTROLLERS:PATH` line per hierarchy (v1) or a single
//! `0::PATH` (v2). For each hierarchy where the container sits elsewhere than we do, the
//! joining process writes itself into that cgroup's `cgroup.procs`, found through the
//! hierarchy's mount point in `/proc/self/mountinfo`.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use super::error::Result;
use super::error::{CgroupError, CgroupStep};

/// The `cgroup.procs` files of `pid`'s cgroups that are not ours.
pub fn procs_files_to_join(pid: libc::pid_t) -> Result<Vec<CString>> {
    let read = |path: String| {
        std::fs::read_to_string(&path).map_err(CgroupError::io(CgroupStep::ReadToJoin(path)))
    };
    let theirs = read(format!("/proc/{pid}/cgroup"))?;
    let ours = read("/proc/self/cgroup".to_owned())?;
    let mountinfo = read("/proc/self/mountinfo".to_owned())?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    Ok(procs_files(&theirs, &ours, &mountinfo)
        .into_iter()
        .filter_map(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
        // Rootless: only cgroups delegated to us can be joined; in the others the
        // command stays where we are rather than not running at all.
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        .filter(|c| root || unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
        .collect())
}

/// The pure part of [`procs_files_to_join`], on the three files' text.
pub fn procs_files(theirs: &str, ours: &str, mountinfo: &str) -> Vec<PathBuf> {
    let ours: Vec<(&str, &str)> = ours.lines().filter_map(split_line).collect();
    theirs
        .lines()
        .filter_map(split_line)
        .filter(|line| !ours.contains(line))
        .filter_map(|(controllers, path)| {
            let (mount_root, point) = mount_of(mountinfo, controllers)?;
            let inside = path.strip_prefix(mount_root).unwrap_or(path);
            Some(
                Path::new(point)
                    .join(inside.trim_start_matches('/'))
                    .join("cgroup.procs"),
            )
        })
        .collect()
}

/// `(CONTROLLERS, PATH)` of one `/proc/PID/cgroup` line.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let mut parts = line.splitn(3, ':');
    let _id = parts.next()?;
    Some((parts.next()?, parts.next()?))
}

/// `(root, mount point)` of the hierarchy with exactly these controllers (`""` is the
/// v2 hierarchy; `name=systemd` style names count as controllers).
fn mount_of<'a>(mountinfo: &'a str, controllers: &str) -> Option<(&'a str, &'a str)> {
    let wanted: Vec<&str> = controllers.split(',').filter(|c| !c.is_empty()).collect();
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut fields = left.split(' ');
        let (root, point) = (fields.nth(3)?, fields.next()?);
        let mut right = right.split(' ');
        let (fstype, _source, options) = (right.next()?, right.next()?, right.next()?);
        let found = match fstype {
            "cgroup2" => wanted.is_empty(),
            "cgroup" => {
                let options: Vec<&str> = options.split(',').collect();
                !wanted.is_empty() && wanted.iter().all(|c| options.contains(c))
            }
            _ => false,
        };
        found.then_some((root, point))
    })
}

#[cfg(test)]
mod tests {
    use super::procs_files;

    const MOUNTINFO: &str = "\
30 23 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
31 23 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
32 23 0:28 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
";

    #[test]
    fn only_the_hierarchies_where_the_container_differs_are_joined() {
        let ours = "4:memory:/job\n2:cpu,cpuacct:/\n0::/\n";
        let theirs = "4:memory:/job/vessel-ab\n2:cpu,cpuacct:/\n0::/\n";
        assert_eq!(
            procs_files(theirs, ours, MOUNTINFO),
            [std::path::PathBuf::from(
                "/sys/fs/cgroup/memory/job/vessel-ab/cgroup.procs"
            )]
        );
    }

    #[test]
    fn v2_lines_map_to_the_cgroup2_mount() {
        let files = procs_files("0::/a/b\n", "0::/a\n", MOUNTINFO);
        assert_eq!(
            files,
            [std::path::PathBuf::from(
                "/sys/fs/cgroup/unified/a/b/cgroup.procs"
            )]
        );
    }
}
