//! Writing a COPY's files into the image, never outside it.
//!
//! The destination is resolved in the image's merged tree with [`InRoot`]: a symlink in
//! the image (`/target -> /`, `/etc -> ../../../etc`) resolves inside the image, as the
//! container would see it, never through the host's `/`. Each file is created with
//! `openat(parent, name, O_CREAT|O_EXCL|O_NOFOLLOW)` in a parent directory resolved in
//! the root; whatever non-directory was at that name (a symlink included) is unlinked
//! first, so nothing is ever written *through* a link.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, UtimensatFlags, fchmod, utimensat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchownat, unlinkat};

use super::context::{Context, Entry, EntryKind, Selection};
use crate::security::InRoot;

/// Who owns what a COPY writes: root unless `--chown` says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

// ANCHOR: copy_into
/// Copies `selections` to `dest` (absolute in the image) inside `image`. `dest` is a
/// directory to copy *into* when it ends in `/`, when several files are copied, or when
/// it already is a directory in the image; otherwise it is the name of the one file.
pub fn copy_into(
    context: &Context,
    selections: &[Selection],
    image: &InRoot,
    dest: &str,
    owner: Owner,
) -> io::Result<()> {
    let many = selections.len() > 1;
    let dest_path = PathBuf::from(dest);
    let into_dir =
        dest.ends_with('/') || many || image.metadata(&dest_path).is_ok_and(|m| m.is_dir());
    for selection in selections {
        for entry in &selection.entries {
            let target = if selection.is_dir {
                dest_path.join(&entry.below)
            } else if into_dir {
                dest_path.join(entry.rel.file_name().unwrap_or(OsStr::new("")))
            } else {
                dest_path.clone()
            };
            write_entry(context, entry, image, &target, owner)?;
        }
    }
    Ok(())
}
// ANCHOR_END: copy_into

/// Writes one entry at `target` (absolute in the image).
fn write_entry(
    context: &Context,
    entry: &Entry,
    image: &InRoot,
    target: &Path,
    owner: Owner,
) -> io::Result<()> {
    if entry.kind == EntryKind::Dir {
        let dir = make_dirs(image, target)?;
        return set_attributes(&dir, None, entry, owner);
    }
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot copy a file onto {target:?}"),
        ));
    };
    let parent_fd = make_dirs(image, parent)?;
    replace_non_directory(&parent_fd, name, target)?;
    match &entry.kind {
        EntryKind::Symlink(link) => {
            nix::unistd::symlinkat(link.as_path(), parent_fd.as_fd(), name)
                .map_err(io::Error::from)?;
            set_attributes(&parent_fd, Some(name), entry, owner)
        }
        EntryKind::File => {
            let mut input = context.open_entry(entry)?;
            let fd = openat(
                parent_fd.as_fd(),
                name,
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )
            .map_err(io::Error::from)?;
            let mut output = File::from(fd);
            io::copy(&mut input, &mut output)?;
            set_attributes(&output.into(), None, entry, owner)
        }
        EntryKind::Dir => unreachable!("handled above"),
    }
}

// ANCHOR: make_dirs
/// `mkdir -p` of `path` in the image, following the image's symlinks *inside* it and
/// creating what a dangling one points at, as docker does (`/link -> /opt/new` makes
/// `/opt/new`). Every lookup and `mkdir` goes through [`InRoot`], so whatever the links
/// say, the walk stays in the image.
pub(super) fn make_dirs(image: &InRoot, path: &Path) -> io::Result<OwnedFd> {
    let mut todo: std::collections::VecDeque<std::ffi::OsString> = names(path).collect();
    let mut done = PathBuf::new();
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            done.pop();
            continue;
        }
        let next = done.join(&name);
        match image.symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let link = image.resolve_no_follow(&next)?;
                let target =
                    PathBuf::from(nix::fcntl::readlinkat(&link, "").map_err(io::Error::from)?);
                if target.is_absolute() {
                    done = PathBuf::new();
                }
                for (i, part) in names(&target).enumerate() {
                    todo.insert(i, part);
                }
            }
            Ok(meta) if meta.is_dir() => done = next,
            Ok(_) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                image.create_dir_all(&next, 0o755)?;
                done = next;
            }
            Err(e) => return Err(e),
        }
    }
    image.open_with(&done, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)
}
// ANCHOR_END: make_dirs

/// The `..` and normal names of `path`, in order.
fn names(path: &Path) -> impl Iterator<Item = std::ffi::OsString> + '_ {
    path.components().filter_map(|c| match c {
        std::path::Component::Normal(name) => Some(name.to_owned()),
        std::path::Component::ParentDir => Some("..".into()),
        _ => None,
    })
}

/// Removes a file or symlink at `parent/name`; a directory there is an error (docker
/// cannot put a file over a directory either).
fn replace_non_directory(parent: &OwnedFd, name: &OsStr, target: &Path) -> io::Result<()> {
    match nix::sys::stat::fstatat(parent.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(nix::Error::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(stat) if stat.st_mode & libc::S_IFMT == libc::S_IFDIR => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("cannot copy a file onto the directory {target:?}"),
        )),
        Ok(_) => unlinkat(parent.as_fd(), name, UnlinkatFlags::NoRemoveDir).map_err(Into::into),
    }
}

/// Owner, mode and modification time of `fd` (or of `name` in directory `fd`, for a
/// symlink, whose mode cannot be set).
fn set_attributes(
    fd: &OwnedFd,
    name: Option<&OsStr>,
    entry: &Entry,
    owner: Owner,
) -> io::Result<()> {
    let (uid, gid) = (
        Some(Uid::from_raw(owner.uid)),
        Some(Gid::from_raw(owner.gid)),
    );
    let time = TimeSpec::new(entry.mtime.0, entry.mtime.1);
    match name {
        Some(name) => {
            fchownat(fd.as_fd(), name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(io::Error::from)?;
            utimensat(
                fd.as_fd(),
                name,
                &time,
                &time,
                UtimensatFlags::NoFollowSymlink,
            )
            .map_err(io::Error::from)
        }
        None => {
            // An O_PATH descriptor cannot be chmod-ed directly: go through /proc.
            let path = format!(
                "/proc/thread-self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(fd)
            );
            nix::unistd::chown(path.as_str(), uid, gid).map_err(io::Error::from)?;
            // chown clears setuid/setgid bits: the mode goes after it.
            match fchmod(fd.as_fd(), Mode::from_bits_truncate(entry.mode)) {
                Err(nix::Error::EBADF) => nix::sys::stat::fchmodat(
                    nix::fcntl::AT_FDCWD,
                    path.as_str(),
                    Mode::from_bits_truncate(entry.mode),
                    nix::sys::stat::FchmodatFlags::FollowSymlink,
                )
                .map_err(io::Error::from)?,
                other => other.map_err(io::Error::from)?,
            }
            utimensat(
                nix::fcntl::AT_FDCWD,
                path.as_str(),
                &time,
                &time,
                UtimensatFlags::FollowSymlink,
            )
            .map_err(io::Error::from)
        }
    }
}
