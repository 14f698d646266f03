//! A rootfs made of one static busybox: every applet is a symlink to it.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{fs, io};

use super::{BuildResult, at, is_static_executable};

/// Where distributions install a static busybox.
const CANDIDATES: [&str; 3] = ["/bin/busybox", "/usr/bin/busybox", "/usr/local/bin/busybox"];

/// The first static busybox on this host, if any.
pub fn find_static() -> Option<PathBuf> {
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|path| is_static_executable(path).unwrap_or(false))
}

/// Copies `busybox` to `/bin/busybox` and links each applet to it.
pub fn populate(root: &Path, busybox: &Path) -> BuildResult {
    at(
        "copy busybox",
        fs::copy(busybox, root.join("bin/busybox")).map(drop),
    )?;
    let output = at(
        "list busybox applets",
        Command::new(busybox).arg("--list-full").output(),
    )?;
    if !output.status.success() {
        let err = io::Error::other(format!("busybox --list-full {}", output.status));
        return Err(("list busybox applets".into(), err));
    }
    for applet in String::from_utf8_lossy(&output.stdout).lines() {
        let link = root.join(applet);
        if applet == "bin/busybox" || link.exists() {
            continue;
        }
        if let Some(dir) = link.parent() {
            at(format!("create {}", dir.display()), fs::create_dir_all(dir))?;
        }
        // Absolute: resolved inside the container, after pivot_root.
        at(format!("link {applet}"), symlink("/bin/busybox", &link))?;
    }
    Ok(())
}
