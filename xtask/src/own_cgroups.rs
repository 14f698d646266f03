//! This process's own cgroup directory in every mounted hierarchy, from `/proc/self/cgroup`.

use std::path::PathBuf;

/// `/sys/fs/cgroup/<hierarchy>/<our path>` for each line of `/proc/self/cgroup`
/// (`unified` for the v2 line, `systemd` for `name=systemd`).
pub fn dirs() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    own.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let hierarchy = match controllers {
                "" => "unified".to_owned(),
                c => c.trim_start_matches("name=").to_owned(),
            };
            Some(
                PathBuf::from("/sys/fs/cgroup")
                    .join(hierarchy)
                    .join(path.trim_start_matches('/')),
            )
        })
        .filter(|dir| dir.is_dir())
        .collect()
}
