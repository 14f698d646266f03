//! The two ways a layer says "this is gone": OCI's names and overlayfs's markers.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// OCI: an empty entry `.wh.NAME` deletes `NAME` from the layers below.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// OCI: an entry `.wh..wh..opq` in a directory hides everything below it in lower layers.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// overlayfs: this xattr set to `y` on an upper or lower directory makes it opaque.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// overlayfs keeps its own bookkeeping in this xattr namespace; it is never part of a layer.
pub const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

// ANCHOR: overlay_whiteout
/// overlayfs's whiteout: a character device with device number 0/0.
pub fn is_overlay_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Creates an overlay whiteout at `path` (`mknod(path, S_IFCHR|0, makedev(0, 0))`).
pub fn make_overlay_whiteout(path: &Path) -> io::Result<()> {
    nix::sys::stat::mknod(
        path,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .map_err(io::Error::from)
}

/// Whether the directory at `path` is opaque for overlayfs.
pub fn is_opaque(path: &Path) -> io::Result<bool> {
    Ok(xattr::get(path, OPAQUE_XATTR)?.as_deref() == Some(b"y"))
}

/// Marks the directory at `path` opaque (`setxattr(path, "trusted.overlay.opaque", "y")`).
pub fn set_opaque(path: &Path) -> io::Result<()> {
    xattr::set(path, OPAQUE_XATTR, b"y")
}
// ANCHOR_END: overlay_whiteout

/// For an OCI entry name, what it means: `Some(None)` for the opaque marker,
/// `Some(Some(NAME))` for a whiteout of `NAME`, `None` for an ordinary name.
pub fn oci_whiteout_target(file_name: &str) -> Option<Option<&str>> {
    if file_name == OPAQUE_MARKER {
        return Some(None);
    }
    file_name.strip_prefix(WHITEOUT_PREFIX).map(Some)
}
