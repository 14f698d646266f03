//! OCI layer tar → a directory overlayfs can use as a lower layer.
//!
//! Ordinary entries are written as they are (owner, mode, mtime and xattrs kept). The two
//! OCI markers become overlay's: `.wh.NAME` becomes a character device 0/0 called `NAME`,
//! and `.wh..wh..opq` becomes the xattr `trusted.overlay.opaque=y` on its directory.
//! The same extractor, told to *apply* whiteouts instead, is what [`super::flatten`] uses.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::Path;

use nix::sys::stat::{Mode, UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;
use nix::unistd::mkfifo;
use tar::EntryType;

use super::error::LayerError;
use super::hostile::{Guard, remove_any};
use super::whiteout::{self, OVERLAY_XATTR_PREFIX};

/// What to do with OCI whiteout entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Whiteouts {
    /// Turn them into overlay whiteouts and opaque xattrs (a lower dir for overlayfs).
    ToOverlay,
    /// Skip them: the caller already deleted what they name (flattening).
    Skip,
}

/// Unpacks the OCI layer `tar` into the new directory `dest` in overlay's format.
/// On any error `dest` is removed again, and nothing was written outside it.
pub fn unpack_layer(tar: &Path, dest: &Path) -> Result<(), LayerError> {
    fs::create_dir(dest).map_err(LayerError::io("create layer directory", dest))?;
    let result = extract(tar, dest, Whiteouts::ToOverlay);
    if result.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    result
}

/// Reads the layer tar `tar` through without writing anything: how many entries it has,
/// or why it is corrupt (cut short) or hostile (oversized extension headers).
pub fn count_entries(tar: &Path) -> Result<u64, LayerError> {
    Guard { tar, root: tar }.prescan()
}

fn corrupt(tar: &Path, what: &'static str) -> impl FnOnce(io::Error) -> LayerError {
    let tar = tar.to_owned();
    move |source| LayerError::CorruptTar { tar, what, source }
}

/// Writes every entry of `tar` into `root`, handling whiteouts as `whiteouts` says.
pub(crate) fn extract(tar: &Path, root: &Path, whiteouts: Whiteouts) -> Result<(), LayerError> {
    let guard = Guard { tar, root };
    guard.prescan()?;
    let file = File::open(tar).map_err(LayerError::io("open layer", tar))?;
    let mut archive = tar::Archive::new(file);
    let mut dirs = Vec::new();
    for entry in archive
        .entries_with_seek()
        .map_err(corrupt(tar, "cannot read the first header"))?
    {
        let mut entry = entry.map_err(corrupt(tar, "bad entry header"))?;
        let path_bytes = entry.path_bytes().into_owned();
        let Some(rel) = guard.entry_path(&path_bytes)? else {
            continue; // the root directory itself
        };
        let name = rel.file_name().map_or(&[][..], OsStr::as_bytes);
        if let Some(target) = std::str::from_utf8(name)
            .ok()
            .and_then(whiteout::oci_whiteout_target)
        {
            if whiteouts == Whiteouts::ToOverlay {
                write_overlay_marker(&guard, &rel, target)?;
                if let Some(deleted) = target {
                    // Keep the marker's time, so packing the layer again gives the same bytes.
                    let whiteout = guard.root.join(rel.with_file_name(deleted));
                    set_mtime(&whiteout, entry.header().mtime().unwrap_or(0))?;
                }
            }
            continue;
        }
        guard.ensure_parent(&rel, true)?;
        let full = root.join(&rel);
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Directory => {
                if !fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
                    remove_any(&full).map_err(LayerError::io("replace", &full))?;
                    fs::create_dir(&full).map_err(LayerError::io("create directory", &full))?;
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                remove_any(&full).map_err(LayerError::io("replace", &full))?;
                let mut out = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .mode(0o600)
                    .open(&full)
                    .map_err(LayerError::io("create file", &full))?;
                io::copy(&mut entry, &mut out).map_err(corrupt(tar, "file data cut short"))?;
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                let target = Path::new(OsStr::from_bytes(&target));
                guard.check_symlink(&rel, target)?;
                remove_any(&full).map_err(LayerError::io("replace", &full))?;
                symlink(target, &full).map_err(LayerError::io("create symlink", &full))?;
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                let target = guard.hard_link_target(&rel, &target)?;
                if target != full {
                    remove_any(&full).map_err(LayerError::io("replace", &full))?;
                    fs::hard_link(&target, &full)
                        .map_err(LayerError::io("create hard link", &full))?;
                }
                continue; // a hard link shares the target's metadata
            }
            EntryType::Fifo => {
                remove_any(&full).map_err(LayerError::io("replace", &full))?;
                mkfifo(&full, Mode::from_bits_truncate(0o600))
                    .map_err(|e| LayerError::io("create fifo", &full)(e.into()))?;
            }
            EntryType::Char | EntryType::Block => {
                return Err(guard.hostile(
                    &path_bytes,
                    "is a device node (layers may not carry device nodes: vessel makes each container's /dev itself)",
                ));
            }
            EntryType::XGlobalHeader => continue,
            other => {
                return Err(guard.hostile(
                    &path_bytes,
                    format!("has the unsupported entry type {other:?}"),
                ));
            }
        }
        apply_metadata(&mut entry, &full, kind, tar)?;
        if kind == EntryType::Directory {
            dirs.push((full, entry.header().mtime().unwrap_or(0)));
        }
    }
    // Directory times last: writing into a directory changes its mtime.
    for (dir, mtime) in dirs.iter().rev() {
        set_mtime(dir, *mtime)?;
    }
    Ok(())
}

// ANCHOR: oci_to_overlay
/// `.wh..wh..opq` → `trusted.overlay.opaque=y` on the directory;
/// `.wh.NAME` → a character device 0/0 called `NAME`.
fn write_overlay_marker(
    guard: &Guard<'_>,
    rel: &Path,
    target: Option<&str>,
) -> Result<(), LayerError> {
    guard.ensure_parent(rel, true)?;
    let dir = guard.root.join(rel.parent().unwrap_or(Path::new("")));
    match target {
        None => whiteout::set_opaque(&dir).map_err(LayerError::io("mark opaque", &dir)),
        Some(name)
            if name.is_empty()
                || name.starts_with(whiteout::WHITEOUT_PREFIX)
                || name == "."
                || name == ".." =>
        {
            Err(guard.hostile(
                rel.as_os_str().as_bytes(),
                "is a whiteout with no valid name to delete",
            ))
        }
        Some(name) => {
            let path = dir.join(name);
            remove_any(&path).map_err(LayerError::io("replace", &path))?;
            whiteout::make_overlay_whiteout(&path).map_err(LayerError::io("create whiteout", &path))
        }
    }
}
// ANCHOR_END: oci_to_overlay

/// Owner, then mode (a chown clears set-uid bits), xattrs and mtime, never following a
/// symlink.
fn apply_metadata<R: io::Read>(
    entry: &mut tar::Entry<'_, R>,
    full: &Path,
    kind: EntryType,
    tar: &Path,
) -> Result<(), LayerError> {
    let header = entry.header();
    let uid = header.uid().map_err(corrupt(tar, "bad uid field"))?;
    let gid = header.gid().map_err(corrupt(tar, "bad gid field"))?;
    let mode = header.mode().map_err(corrupt(tar, "bad mode field"))? & 0o7777;
    let mtime = header.mtime().unwrap_or(0);
    std::os::unix::fs::lchown(full, Some(uid as u32), Some(gid as u32))
        .map_err(LayerError::io("set owner of", full))?;
    if kind == EntryType::Symlink {
        return set_mtime(full, mtime);
    }
    fs::set_permissions(full, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(LayerError::io("set mode of", full))?;
    if let Some(extensions) = entry
        .pax_extensions()
        .map_err(corrupt(tar, "bad PAX header"))?
    {
        for extension in extensions {
            let extension = extension.map_err(corrupt(tar, "bad PAX record"))?;
            let Some(name) = extension.key_bytes().strip_prefix(b"SCHILY.xattr.") else {
                continue;
            };
            // overlay's own xattrs only ever come from vessel, never from a tar.
            if name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
                continue;
            }
            xattr::set(full, OsStr::from_bytes(name), extension.value_bytes())
                .map_err(LayerError::io("set xattr on", full))?;
        }
    }
    if kind != EntryType::Directory {
        set_mtime(full, mtime)?;
    }
    Ok(())
}

fn set_mtime(path: &Path, mtime: u64) -> Result<(), LayerError> {
    let time = TimeSpec::new(mtime as libc::time_t, 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| LayerError::io("set mtime of", path)(e.into()))
}
