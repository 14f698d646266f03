//! A rootfs made of one static busybox: every applet is a symlink to it.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BuildCause, BuildResult, BuildStep, at, is_static_executable};

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
        BuildStep::CopyBusybox,
        fs::copy(busybox, root.join("bin/busybox")).map(drop),
    )?;
    let output = at(
        BuildStep::ListApplets,
        Command::new(busybox).arg("--list-full").output(),
    )?;
    if !output.status.success() {
        let failed = BuildCause::ListFailed(output.status);
        return Err((BuildStep::ListApplets, failed));
    }
    for applet in String::from_utf8_lossy(&output.stdout).lines() {
        let link = root.join(applet);
        if applet == "bin/busybox" || link.exists() {
            continue;
        }
        if let Some(dir) = link.parent() {
            at(
                BuildStep::CreateDir(dir.to_owned()),
                fs::create_dir_all(dir),
            )?;
        }
        // Absolute: resolved inside the container, after pivot_root.
        let step = BuildStep::LinkApplet(applet.to_owned());
        at(step, symlink("/bin/busybox", &link))?;
    }
    Ok(())
}
