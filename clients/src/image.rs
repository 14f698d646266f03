//! The one small image every client scenario runs: vessel's default rootfs (a static
//! busybox with its applets, `/etc/passwd`, …) as a tar a client can import. No registry
//! is reachable here, and the image is the same for every runtime being compared.

use std::path::{Path, PathBuf};

/// Builds vessel's busybox rootfs in `work` and packs it as `work/busybox.tar`.
pub fn busybox_tar(work: &Path) -> Result<PathBuf, String> {
    let rootfs = work.join("busybox-rootfs");
    vessel::rootfs::build_from(&rootfs, &vessel::rootfs::source())
        .map_err(|(step, e)| format!("build the busybox rootfs ({step}): {e}"))?;
    let tar_path = work.join("busybox.tar");
    let file = std::fs::File::create(&tar_path)
        .map_err(|e| format!("create {}: {e}", tar_path.display()))?;
    let mut builder = tar::Builder::new(file);
    builder.follow_symlinks(false);
    builder
        .append_dir_all(".", &rootfs)
        .and_then(|()| builder.finish())
        .map_err(|e| format!("pack {}: {e}", rootfs.display()))?;
    std::fs::remove_dir_all(&rootfs).map_err(|e| format!("remove {}: {e}", rootfs.display()))?;
    Ok(tar_path)
}
