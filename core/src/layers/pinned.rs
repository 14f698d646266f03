//! Walking a directory the owner of its contents may be changing under us.
//!
//! `vessel commit` packs a container's writable layer, a tree the container itself
//! writes. A path such as `upper/data/secret` is resolved again by every `open` or
//! `stat`: if the container swaps `data` for a symlink to `/` in between, a path-based
//! walk reads the *host's* files into the image. So every entry is reached from its
//! parent's open descriptor, one name at a time, never following a symlink:
//!
//! 1. `openat(parent, name, O_PATH|O_NOFOLLOW)` pins the entry itself (a symlink is
//!    pinned as a symlink), and `fstat` on it says what it is;
//! 2. a directory is then opened with `openat(parent, name, O_DIRECTORY|O_NOFOLLOW)`
//!    and must be the same inode; a regular file is re-opened through its pinned
//!    descriptor (`/proc/self/fd/N`), which cannot reach another inode, and is never
//!    opened at all if it is not a regular file (no device or FIFO is ever opened).
//!
//! A swap between the steps makes the walk fail with [`Changed`]; it never reads
//! anything outside the tree.

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, openat, readlinkat};
use nix::sys::stat::Mode;

/// The error kind a walk reports when an entry changed between two of its steps.
pub(crate) const CHANGED: io::ErrorKind = io::ErrorKind::Interrupted;

/// An entry changed (or was swapped for a symlink) while being read.
fn changed(name: &OsStr) -> io::Error {
    io::Error::new(
        CHANGED,
        format!("{name:?} changed while it was being read (it was swapped or replaced)"),
    )
}

/// An open directory, every name below it reached through this descriptor.
#[derive(Debug)]
pub(crate) struct PinnedDir {
    fd: OwnedFd,
}

/// One entry of a [`PinnedDir`], pinned by an `O_PATH` descriptor.
#[derive(Debug)]
pub(crate) struct PinnedEntry {
    name: OsString,
    fd: OwnedFd,
    meta: Metadata,
}

impl PinnedDir {
    /// Opens the directory at `path` (a path vessel owns, such as `containers/ID/upper`).
    pub fn open(path: &Path) -> io::Result<PinnedDir> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(PinnedDir { fd })
    }

    /// A path naming this directory through its descriptor (`/proc/self/fd/N`), for the
    /// calls that take only paths (`llistxattr`, `lgetxattr`) with one name appended.
    pub fn proc_path(&self, name: &OsStr) -> PathBuf {
        Path::new("/proc/self/fd")
            .join(self.fd.as_raw_fd().to_string())
            .join(name)
    }

    /// The names in this directory, sorted (read through the descriptor).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let dir = Path::new("/proc/self/fd").join(self.fd.as_raw_fd().to_string());
        let mut names = std::fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    /// Pins the entry `name` without following it and says what it is.
    pub fn entry(&self, name: &OsStr) -> io::Result<PinnedEntry> {
        let fd = openat(
            self.fd.as_fd(),
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let meta = File::from(fd.try_clone()?).metadata()?;
        Ok(PinnedEntry {
            name: name.to_owned(),
            fd,
            meta,
        })
    }

    /// Opens the directory entry `entry` for walking; it must still be the same inode.
    pub fn subdir(&self, entry: &PinnedEntry) -> io::Result<PinnedDir> {
        let fd = openat(
            self.fd.as_fd(),
            entry.name.as_os_str(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            // Swapped for a symlink (ELOOP) or a file (ENOTDIR) since it was pinned.
            nix::Error::ELOOP | nix::Error::ENOTDIR => changed(&entry.name),
            other => other.into(),
        })?;
        let opened = File::from(fd.try_clone()?).metadata()?;
        if !same_inode(&opened, &entry.meta) {
            return Err(changed(&entry.name));
        }
        Ok(PinnedDir { fd })
    }
}

impl PinnedEntry {
    /// What the entry was when it was pinned (`lstat`, never followed).
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Opens a pinned regular file for reading, through its own descriptor: the open
    /// cannot reach any other inode, whatever happens to its name meanwhile.
    pub fn open_file(&self) -> io::Result<File> {
        if !self.meta.is_file() {
            return Err(changed(&self.name));
        }
        let path = Path::new("/proc/self/fd").join(self.fd.as_raw_fd().to_string());
        // `/proc/self/fd/N` is a magic link to the pinned inode itself: following it
        // cannot lead anywhere else, whatever happens to the entry's name meanwhile.
        let fd = nix::fcntl::open(&path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
        let file = File::from(fd);
        if !same_inode(&file.metadata()?, &self.meta) {
            return Err(changed(&self.name));
        }
        Ok(file)
    }

    /// A pinned symlink's target (`readlinkat(fd, "")`).
    pub fn read_link(&self) -> io::Result<PathBuf> {
        readlinkat(self.fd.as_fd(), Path::new(""))
            .map(PathBuf::from)
            .map_err(|_| changed(&self.name))
    }
}

fn same_inode(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino() && a.file_type() == b.file_type()
}
