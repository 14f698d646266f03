//! ADD of a local tar archive: unpacked at the destination rather than copied.
//!
//! The archive comes from the build context, so it is as untrusted as a pulled layer:
//! it is unpacked by the same extractor as image layers, with the same hostile-tar rules
//! ([`crate::layers`]: no `..`, nothing written through a symlink an earlier entry
//! planted, no hard link out, no device nodes, bounded extension headers). The
//! destination directory itself was resolved inside the image first.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::layers::LayerError;
use crate::layers::unpack::{Whiteouts, extract};
use crate::security::InRoot;

/// Whether `file` starts like a tar archive (a `ustar` header magic at offset 257).
pub fn is_tar(file: &mut File) -> io::Result<bool> {
    let mut header = [0u8; 512];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..])? {
            0 => break,
            n => read += n,
        }
    }
    file.rewind()?;
    Ok(read == 512 && &header[257..262] == b"ustar")
}

// ANCHOR: add_tar
/// Unpacks the tar at `tar` (a host path vessel made: a copy out of the context) into
/// directory `dest` (absolute in the image) inside `image`.
pub fn unpack_into(tar: &Path, image: &InRoot, dest: &Path) -> Result<(), LayerError> {
    let dir = image.create_dir_all(dest, 0o755).map_err(LayerError::io(
        "create ADD destination",
        image.path().join(dest),
    ))?;
    // The directory's own path, as this thread's mount namespace names it: resolved in
    // the image already, and the extractor never follows a symlink below it.
    let root: PathBuf =
        std::fs::read_link(format!("/proc/thread-self/fd/{}", dir.as_raw_fd())).map_err(
            LayerError::io("find ADD destination", image.path().join(dest)),
        )?;
    extract(tar, &root, Whiteouts::Skip)
}
// ANCHOR_END: add_tar
