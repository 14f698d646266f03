//! A throw-away copy of the default rootfs for one lesson, removed when dropped, so a
//! lesson can add its own files without touching the shared cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use vessel::rootfs;

/// A private rootfs under a temporary directory.
#[derive(Debug)]
pub struct ScratchRootfs {
    dir: PathBuf,
    root: PathBuf,
}

impl ScratchRootfs {
    /// Copies the default rootfs (building it if needed) into a new temporary directory.
    pub fn new(lesson: &str) -> Result<ScratchRootfs, Box<dyn std::error::Error>> {
        let base = rootfs::default_rootfs()?;
        let dir = std::env::temp_dir().join(format!("vessel-{lesson}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let root = dir.join("rootfs");
        // `cp -a` keeps symlinks and modes exactly; std has no recursive copy.
        let status = Command::new("cp")
            .arg("-a")
            .arg(&base)
            .arg(&root)
            .status()?;
        if !status.success() {
            return Err(format!("cp -a {} {}: {status}", base.display(), root.display()).into());
        }
        Ok(ScratchRootfs { dir, root })
    }

    /// The rootfs directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The directory holding the rootfs, for files that must stay outside it.
    pub fn outside(&self) -> &Path {
        &self.dir
    }

    /// Copies the running lesson binary into the rootfs as `dest`, with its libraries,
    /// so the lesson can run a part of itself inside the container.
    pub fn install_self(&self, dest: &str) -> Result<(), Box<dyn std::error::Error>> {
        let me = std::env::current_exe()?;
        rootfs::install_binary(&self.root, &me, Path::new(dest))
            .map_err(|(step, e)| format!("install {}: {step}: {e}", me.display()))?;
        Ok(())
    }
}

impl Drop for ScratchRootfs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A path for one lesson's own files under the temporary directory, removed (with
/// everything in it) when dropped. The lesson creates what it needs below it.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `/tmp/vessel-<lesson>-<pid>`, not created yet.
    pub fn for_lesson(lesson: &str) -> ScratchDir {
        ScratchDir(std::env::temp_dir().join(format!("vessel-{lesson}-{}", std::process::id())))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
