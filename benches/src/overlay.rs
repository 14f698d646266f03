//! Throw-away overlay mounts for the copy-up benchmarks.
//!
//! The lower directory is filled *before* mounting: overlayfs does not allow its lower
//! layers to change under a mounted overlay. Every mount is undone on drop, even when a
//! benchmark panics.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the upper (writable) layer lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpperOn {
    /// The same disk as the lower layer.
    Disk,
    /// A tmpfs mounted for the benchmark.
    Tmpfs,
}

impl UpperOn {
    /// A short name for benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            UpperOn::Disk => "disk",
            UpperOn::Tmpfs => "tmpfs",
        }
    }
}

/// An overlay of one lower dir and one upper dir, mounted at `merged`.
#[derive(Debug)]
pub struct Overlay {
    _dir: tempfile::TempDir,
    lower: PathBuf,
    merged: PathBuf,
    beside_upper: PathBuf,
    mounts: Vec<PathBuf>,
}

fn mount(source: &str, target: &Path, fstype: &str, data: &str) -> io::Result<()> {
    let c = |s: &[u8]| CString::new(s).map_err(io::Error::other);
    let (source, target, fstype, data) = (
        c(source.as_bytes())?,
        c(target.as_os_str().as_bytes())?,
        c(fstype.as_bytes())?,
        c(data.as_bytes())?,
    );
    // SAFETY: all four are NUL-terminated strings that live until the call returns.
    let ret = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Overlay {
    /// Creates `lower/`, lets `fill` populate it, then mounts the overlay with extra
    /// mount options `options` (e.g. `"metacopy=on"`).
    pub fn new(
        upper_on: UpperOn,
        options: &str,
        fill: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<Overlay> {
        let dir = tempfile::Builder::new()
            .prefix("vessel-bench-overlay-")
            .tempdir_in("/var/tmp")?;
        let lower = dir.path().join("lower");
        let rw = dir.path().join("rw");
        let merged = dir.path().join("merged");
        for d in [&lower, &rw, &merged] {
            fs::create_dir(d)?;
        }
        let mut overlay = Overlay {
            _dir: dir,
            lower: lower.clone(),
            merged: merged.clone(),
            beside_upper: rw.join("plain"),
            mounts: Vec::new(),
        };
        fill(&lower)?;
        if upper_on == UpperOn::Tmpfs {
            mount("tmpfs", &rw, "tmpfs", "size=50%")?;
            overlay.mounts.push(rw.clone());
        }
        // upper and work must be on the same filesystem, hence both under `rw`.
        let (upper, work) = (rw.join("upper"), rw.join("work"));
        for d in [&upper, &work, &overlay.beside_upper] {
            fs::create_dir(d)?;
        }
        let mut data = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            upper.display(),
            work.display()
        );
        if !options.is_empty() {
            data = format!("{data},{options}");
        }
        mount("overlay", &merged, "overlay", &data)?;
        overlay.mounts.push(merged);
        Ok(overlay)
    }

    /// The lower (read-only) directory.
    pub fn lower(&self) -> &Path {
        &self.lower
    }

    /// The merged view, where writes trigger copy-up.
    pub fn merged(&self) -> &Path {
        &self.merged
    }

    /// A directory beside the upper layer: on its filesystem (the disk, or the tmpfs)
    /// but outside the overlay, so a write there is a plain write, the floor copy-up is
    /// compared with.
    pub fn beside_upper(&self) -> &Path {
        &self.beside_upper
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        for target in self.mounts.iter().rev() {
            if let Ok(target) = CString::new(target.as_os_str().as_bytes()) {
                // SAFETY: a NUL-terminated path we mounted on; MNT_DETACH cannot harm
                // anything else.
                unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

/// Writes `count` files named `0..count` of `size` bytes each into `dir`.
pub fn fill_files(dir: &Path, count: u64, size: usize) -> io::Result<()> {
    let bytes = vec![0x5a; size];
    for i in 0..count {
        fs::write(dir.join(i.to_string()), &bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn fs_magic(path: &Path) -> libc::c_long {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `c` is NUL-terminated and outlives the call; `stat` is writable memory
        // of the size statfs fills in.
        assert_eq!(unsafe { libc::statfs(c.as_ptr(), stat.as_mut_ptr()) }, 0);
        // SAFETY: statfs returned 0, so it filled in the whole struct.
        unsafe { stat.assume_init() }.f_type as libc::c_long
    }

    /// The floor of the copy-up benchmark once wrote through the merged directory, so
    /// its "plain" write paid overlayfs too.
    #[test]
    fn beside_the_upper_layer_is_its_filesystem_not_the_overlay() {
        vessel::require_root!();
        for upper_on in [UpperOn::Disk, UpperOn::Tmpfs] {
            let overlay = Overlay::new(upper_on, "", |_| Ok(())).unwrap();
            let beside = overlay.beside_upper();
            let upper = beside.parent().unwrap().join("upper");
            assert_ne!(fs_magic(beside), libc::OVERLAYFS_SUPER_MAGIC);
            assert_eq!(fs_magic(beside), fs_magic(&upper), "{}", upper_on.name());
            let dev = |p: &Path| fs::metadata(p).unwrap().dev();
            assert_eq!(dev(beside), dev(&upper));
            assert_ne!(dev(beside), dev(overlay.merged()));
        }
    }
}
