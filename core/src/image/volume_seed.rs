//! A new anonymous volume starts with what the image has at its path, as in docker.
//!
//! An image that says `VOLUME /data` and ships files in `/data` expects a container to see
//! them there: docker copies the image's directory into the fresh volume before the first
//! start (its "copy existing contents"). vessel does the same from the container's own
//! overlay, mounted for the copy in a private mount namespace of one thread, so what is
//! copied is what the container would see (whiteouts and opaque directories applied).
//!
//! The image is untrusted: its path is resolved inside the image (`RESOLVE_IN_ROOT`), a
//! symlink in it is copied as a symlink and never followed, every file is created new
//! (`O_EXCL | O_NOFOLLOW`) in the volume, and device nodes, fifos and sockets are not
//! copied (a volume is the host's directory; a device there would be one a container
//! could hand to a process outside its device cgroup).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use nix::fcntl::{AtFlags, OFlag, openat, readlinkat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstatat, futimens, mkdirat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, fchown, fchownat, symlinkat};

use crate::layers::OverlayRootfs;

/// Deeper trees are refused: the copy recurses, and a hostile image could nest
/// directories until the thread's stack runs out.
const MAX_DEPTH: usize = 256;

/// The cause when the image's volume directory nests deeper than [`MAX_DEPTH`]: no
/// system call failed, the seed refuses to go on.
#[derive(Debug, thiserror::Error)]
#[error("the image's volume directory nests deeper than {MAX_DEPTH} levels")]
struct TooDeep;

// ANCHOR: seed
/// Copies the image's `target` directory (as the container at `overlay`, mounted on
/// `merged`, would see it) into the empty directory `volume`, with owners, modes and
/// modification times. A `target` the image does not have, or that is not a directory,
/// leaves the volume empty.
pub fn seed(
    overlay: &OverlayRootfs,
    merged: &Path,
    target: &Path,
    volume: &Path,
) -> io::Result<()> {
    crate::image::build::mounted::in_merged(overlay, merged, |image| {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let source = match image.open_with(target, flags, 0) {
            Ok(fd) => fd,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let dest = nix::fcntl::open(volume, flags | OFlag::O_NOFOLLOW, Mode::empty())?;
        copy_children(source.as_fd(), dest.as_fd(), 0)?;
        // The volume's root takes the image directory's owner and mode, as docker's does.
        copy_attributes(&fstat(source.as_fd())?, dest.as_fd())
    })
}
// ANCHOR_END: seed

/// Copies every entry of directory `source` into directory `dest`.
fn copy_children(source: BorrowedFd<'_>, dest: BorrowedFd<'_>, depth: usize) -> io::Result<()> {
    if depth >= MAX_DEPTH {
        return Err(io::Error::other(TooDeep));
    }
    // Listed through the descriptor, so the directory is the one resolved in the image.
    let listing = std::fs::read_dir(format!("/proc/thread-self/fd/{}", source.as_raw_fd()))?;
    for entry in listing {
        copy_entry(source, dest, &entry?.file_name(), depth)?;
    }
    Ok(())
}

/// Copies the entry `name` of `source` to the same name in `dest`, never following it.
fn copy_entry(
    source: BorrowedFd<'_>,
    dest: BorrowedFd<'_>,
    name: &OsStr,
    depth: usize,
) -> io::Result<()> {
    let stat = fstatat(source, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let read = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFDIR => {
            mkdirat(dest, name, Mode::from_bits_truncate(0o700))?;
            let from = openat(source, name, read | OFlag::O_DIRECTORY, Mode::empty())?;
            let to = openat(dest, name, read | OFlag::O_DIRECTORY, Mode::empty())?;
            copy_children(from.as_fd(), to.as_fd(), depth + 1)?;
            copy_attributes(&stat, to.as_fd())
        }
        SFlag::S_IFREG => {
            let from = openat(source, name, read, Mode::empty())?;
            let create = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
            let to = openat(
                dest,
                name,
                create | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )?;
            io::copy(&mut File::from(from), &mut File::from(to.try_clone()?))?;
            copy_attributes(&stat, to.as_fd())
        }
        SFlag::S_IFLNK => {
            let link = readlinkat(source, name)?;
            symlinkat(link.as_os_str(), dest, name)?;
            fchownat(
                dest,
                name,
                Some(Uid::from_raw(stat.st_uid)),
                Some(Gid::from_raw(stat.st_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )?;
            Ok(())
        }
        // Devices, fifos and sockets stay behind (see the module's comment).
        _ => Ok(()),
    }
}

/// Gives `fd` the owner, permission bits and modification time of `stat`; the owner
/// first, because `chown` clears setuid and setgid bits.
fn copy_attributes(stat: &FileStat, fd: BorrowedFd<'_>) -> io::Result<()> {
    fchown(
        fd,
        Some(Uid::from_raw(stat.st_uid)),
        Some(Gid::from_raw(stat.st_gid)),
    )?;
    fchmod(fd, Mode::from_bits_truncate(stat.st_mode & 0o7777))?;
    let atime = TimeSpec::new(stat.st_atime, stat.st_atime_nsec);
    let mtime = TimeSpec::new(stat.st_mtime, stat.st_mtime_nsec);
    futimens(fd, &atime, &mtime)?;
    Ok(())
}

fn fstat(fd: BorrowedFd<'_>) -> io::Result<FileStat> {
    Ok(nix::sys::stat::fstat(fd)?)
}
