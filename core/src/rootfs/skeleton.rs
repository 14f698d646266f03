//! The directories and files every rootfs has, whatever fills `/bin`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{BuildResult, BuildStep, at};

/// Written last: a rootfs without it is unfinished and gets rebuilt.
pub const COMPLETE_MARKER: &str = ".vessel-rootfs-complete";

const DIRS: [(&str, u32); 14] = [
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("root", 0o700),
    ("home", 0o755),
    ("tmp", 0o1777),
    ("var/tmp", 0o1777),
    ("run", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
    ("mnt", 0o755),
];

const FILES: [(&str, &str); 3] = [
    (
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    ),
    ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    (
        "etc/os-release",
        "NAME=vessel\nID=vessel\nPRETTY_NAME=\"vessel default rootfs\"\n",
    ),
];

/// Creates the directory tree and the files in `/etc`.
pub fn create(root: &Path) -> BuildResult {
    for (dir, mode) in DIRS {
        let path = root.join(dir);
        at(BuildStep::CreateDir(dir.into()), fs::create_dir_all(&path))?;
        // Explicit, because create_dir_all's mode is cut by the umask.
        at(
            BuildStep::Chmod(dir),
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)),
        )?;
    }
    for (file, contents) in FILES {
        at(BuildStep::Write(file), fs::write(root.join(file), contents))?;
    }
    Ok(())
}

/// Marks the rootfs as complete.
pub fn mark_complete(root: &Path) -> BuildResult {
    at(
        BuildStep::WriteMarker,
        fs::write(root.join(COMPLETE_MARKER), ""),
    )
}
