//! Host-side paths *inside* a rootfs, layer or container directory, resolved in it.
//!
//! `std::fs::metadata(layer.join("data/x"))` follows a symlink `data -> /` in the layer
//! to the host's `/x`: the image, or a container writing to a shared directory, chooses
//! what the host looks at, creates or packs. [`InRoot`] resolves every path with
//! `openat2(root, path, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)`: `..` and absolute symlinks
//! stop at the root as if it were `/`, so a lookup can never leave it, even while the
//! tree changes underneath. The child's own mount steps do the same without allocating
//! (see [`crate::process::child::mounts`]); this is the parent's side, for checks and for code that
//! reads or writes inside a layer (`commit`, the init layer).
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use vessel::security::InRoot;
//! let root = InRoot::open("/var/lib/vessel/layers/abc")?;
//! let hosts = root.open_file("etc/hosts")?; // never the host's /etc/hosts
//! root.create_dir_all("data/cache", 0o755)?;
//! # Ok(()) }
//! ```

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::Mode;

/// A directory that paths are resolved inside of.
#[derive(Debug)]
pub struct InRoot {
    root: OwnedFd,
    path: PathBuf,
}

impl InRoot {
    /// Opens `root` (an `O_PATH` descriptor: nothing is read yet). `root` itself is a host
    /// path the caller trusts; only what lies below it is resolved in it.
    pub fn open(root: impl AsRef<Path>) -> io::Result<InRoot> {
        let path = root.as_ref().to_owned();
        let fd = nix::fcntl::open(
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| context(&path, e.into()))?;
        Ok(InRoot { root: fd, path })
    }

    /// The root's host path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root's descriptor.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Opens `rel` (relative, or absolute meaning "from the root") with `flags`; a final
    /// symlink is followed inside the root unless `flags` has `O_NOFOLLOW`.
    pub fn open_with(&self, rel: impl AsRef<Path>, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
        let rel = relative(rel.as_ref());
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .mode(Mode::from_bits_truncate(mode))
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let mut last = nix::Error::EAGAIN;
        // EAGAIN: a rename raced the lookup of `..`; the kernel asks to try again.
        for _ in 0..16 {
            match openat2(self.root.as_fd(), rel.as_path(), how) {
                Err(nix::Error::EAGAIN) => last = nix::Error::EAGAIN,
                other => return other.map_err(|e| context(&self.path.join(&rel), e.into())),
            }
        }
        Err(context(&self.path.join(&rel), last.into()))
    }

    /// An `O_PATH` descriptor of `rel`, a final symlink followed inside the root.
    pub fn resolve(&self, rel: impl AsRef<Path>) -> io::Result<OwnedFd> {
        self.open_with(rel, OFlag::O_PATH, 0)
    }

    /// An `O_PATH` descriptor of `rel` itself, even if it is a symlink.
    pub fn resolve_no_follow(&self, rel: impl AsRef<Path>) -> io::Result<OwnedFd> {
        self.open_with(rel, OFlag::O_PATH | OFlag::O_NOFOLLOW, 0)
    }

    /// Opens the file `rel` for reading.
    pub fn open_file(&self, rel: impl AsRef<Path>) -> io::Result<File> {
        self.open_with(rel, OFlag::O_RDONLY, 0).map(File::from)
    }

    /// Creates (or truncates) the file `rel` for writing; a symlink in its place is
    /// refused rather than written through.
    pub fn create_file(&self, rel: impl AsRef<Path>, mode: u32) -> io::Result<File> {
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW;
        self.open_with(rel, flags, mode).map(File::from)
    }

    /// What `rel` is, not following a final symlink (`lstat` inside the root).
    pub fn symlink_metadata(&self, rel: impl AsRef<Path>) -> io::Result<Metadata> {
        File::from(self.resolve_no_follow(rel)?).metadata()
    }

    /// What `rel` is, a final symlink followed inside the root.
    pub fn metadata(&self, rel: impl AsRef<Path>) -> io::Result<Metadata> {
        File::from(self.resolve(rel)?).metadata()
    }

    /// `mkdir -p` inside the root: each missing directory is made with `mkdirat` in its
    /// resolved parent, so a symlink swapped in meanwhile is never created through.
    /// Returns the last directory as an `O_PATH` descriptor.
    pub fn create_dir_all(&self, rel: impl AsRef<Path>, mode: u32) -> io::Result<OwnedFd> {
        let rel = relative(rel.as_ref());
        let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
        let mut prefix = PathBuf::new();
        let mut parent = self.open_with(".", dir_flags, 0)?;
        for name in rel.components() {
            prefix.push(name);
            match nix::sys::stat::mkdirat(
                parent.as_fd(),
                name.as_os_str(),
                Mode::from_bits_truncate(mode),
            ) {
                Ok(()) | Err(nix::Error::EEXIST) => {}
                Err(e) => return Err(context(&self.path.join(&prefix), e.into())),
            }
            parent = self.open_with(&prefix, dir_flags, 0)?;
        }
        Ok(parent)
    }
}

/// `rel` without its root and `.` components (`..` stays: the kernel keeps it inside).
fn relative(rel: &Path) -> PathBuf {
    let rel: PathBuf = rel
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

fn context(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root_and_never_reach_the_host() {
        let outside = tempfile::tempdir().unwrap();
        let marker = outside.path().join("marker");
        std::fs::write(&marker, "host").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("marker"), "root").unwrap();
        symlink("/", root.join("up")).unwrap();
        symlink("../../../../../..", root.join("dots")).unwrap();
        symlink(&marker, root.join("absolute")).unwrap();
        let inside = InRoot::open(root).unwrap();
        for path in ["up/marker", "dots/marker", "/up/../../marker"] {
            let text = std::io::read_to_string(inside.open_file(path).unwrap()).unwrap();
            assert_eq!(text, "root", "{path}");
        }
        // The absolute host path is looked up inside the root, where it does not exist.
        assert!(inside.open_file("absolute").is_err());
        assert!(inside.symlink_metadata("absolute").unwrap().is_symlink());
        // mkdir -p through a symlink to / stays inside.
        inside.create_dir_all("up/made/here", 0o755).unwrap();
        assert!(root.join("made/here").is_dir());
        assert!(!Path::new("/made").exists());
        // Writing through a final symlink is refused.
        assert!(inside.create_file("absolute", 0o644).is_err());
        assert_eq!(std::fs::read_to_string(&marker).unwrap(), "host");
    }
}
