//! A directory → an OCI layer tar.
//!
//! Used for two kinds of directory: a *plain* one (`vessel image import DIR`, the default
//! rootfs as the base image) and a container's overlay *upper* dir (`vessel commit`),
//! where overlay's whiteouts (char device 0/0) become `.wh.NAME` entries and opaque
//! directories (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry. Names are sorted,
//! so the same tree always packs to the same bytes and the same digest.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header, HeaderMode};

use super::error::LayerError;
use super::pax;
use super::pinned::{PinnedDir, PinnedEntry};
use super::whiteout::{self, OPAQUE_MARKER, WHITEOUT_PREFIX};

/// What kind of directory is being packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An ordinary directory tree.
    Plain,
    /// An overlay upper (or lower) dir: whiteouts and opaque xattrs mean deletions.
    Overlay,
}

/// What went into a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackSummary {
    /// Entries written, markers included.
    pub entries: u64,
    /// `.wh.NAME` entries written.
    pub whiteouts: u64,
    /// `.wh..wh..opq` entries written.
    pub opaque_dirs: u64,
    /// Paths left out because a layer cannot carry them (device nodes, sockets).
    pub skipped: Vec<PathBuf>,
}

/// Packs everything below `src` (not `src` itself) as an OCI layer tar into `out`.
///
/// The tree is walked through open descriptors and never through a symlink (see
/// [`super::pinned`]): a symlink is packed as a symlink, and an entry swapped while it is
/// read fails the pack instead of letting it read anything outside `src`.
pub fn pack_dir(src: &Path, out: impl Write, kind: SourceKind) -> Result<PackSummary, LayerError> {
    let mut packer = Packer {
        src,
        kind,
        builder: tar::Builder::new(out),
        hard_links: HashMap::new(),
        summary: PackSummary::default(),
    };
    let root = PinnedDir::open(src).map_err(LayerError::io("open directory", src))?;
    packer.walk(&root, Path::new(""))?;
    packer
        .builder
        .into_inner()
        .and_then(|mut out| out.flush())
        .map_err(LayerError::io("finish the layer tar for", src))?;
    Ok(packer.summary)
}

struct Packer<'a, W: Write> {
    src: &'a Path,
    kind: SourceKind,
    builder: tar::Builder<W>,
    /// `(dev, inode)` of multiply-linked files already written, and their path.
    hard_links: HashMap<(u64, u64), PathBuf>,
    summary: PackSummary,
}

impl<W: Write> Packer<'_, W> {
    fn walk(&mut self, dir: &PinnedDir, rel: &Path) -> Result<(), LayerError> {
        let shown = self.src.join(rel);
        let names = dir
            .names()
            .map_err(LayerError::io("read directory", &shown))?;
        for name in names {
            let child = rel.join(&name);
            let full = self.src.join(&child);
            if name.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()) {
                return Err(LayerError::Unpackable {
                    path: full,
                    reason: "names starting with \".wh.\" are reserved for whiteouts in OCI layers (rename it)",
                });
            }
            let entry = dir.entry(&name).map_err(LayerError::io("inspect", &full))?;
            self.entry(dir, &entry, &name, &child, &full)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        dir: &PinnedDir,
        entry: &PinnedEntry,
        name: &OsStr,
        rel: &Path,
        full: &Path,
    ) -> Result<(), LayerError> {
        let meta = entry.metadata();
        let file_type = meta.file_type();
        if self.kind == SourceKind::Overlay && whiteout::is_overlay_whiteout(meta) {
            return self.whiteout(rel, meta);
        }
        let mut header = Header::new_gnu();
        header.set_metadata_in_mode(meta, HeaderMode::Complete);
        // Through the parent's descriptor, and never following the entry itself.
        let in_dir = dir.proc_path(name);
        let xattrs = pax::layer_xattrs(&in_dir).map_err(LayerError::io("read xattrs of", full))?;
        let fail = LayerError::io("write layer entry for", full);
        if !xattrs.is_empty() {
            pax::append_pax(&mut self.builder, &xattrs)
                .map_err(LayerError::io("write xattrs of", full))?;
        }
        if file_type.is_dir() {
            let sub = dir.subdir(entry).map_err(LayerError::io("open", full))?;
            self.builder
                .append_data(&mut header, rel, std::io::empty())
                .map_err(fail)?;
            self.summary.entries += 1;
            if self.kind == SourceKind::Overlay
                && whiteout::is_opaque(&in_dir).map_err(LayerError::io("read xattrs of", full))?
            {
                self.marker(&rel.join(OPAQUE_MARKER), meta)?;
                self.summary.opaque_dirs += 1;
            }
            return self.walk(&sub, rel);
        }
        if file_type.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.hard_links.get(&key) {
                    header.set_entry_type(EntryType::Link);
                    header.set_size(0);
                    let first = first.clone();
                    self.builder
                        .append_link(&mut header, rel, first)
                        .map_err(fail)?;
                    self.summary.entries += 1;
                    return Ok(());
                }
                self.hard_links.insert(key, rel.to_owned());
            }
            let file = entry.open_file().map_err(LayerError::io("open", full))?;
            // The header's size is the pinned inode's: a file that grew or shrank since
            // (the container is still writing it) must fail, not make a corrupt tar.
            let exact = Exact {
                inner: file.take(meta.len()),
                left: meta.len(),
            };
            self.builder
                .append_data(&mut header, rel, exact)
                .map_err(fail)?;
        } else if file_type.is_symlink() {
            let target = entry
                .read_link()
                .map_err(LayerError::io("read symlink", full))?;
            self.builder
                .append_link(&mut header, rel, target)
                .map_err(fail)?;
        } else if file_type.is_fifo() {
            self.builder
                .append_data(&mut header, rel, std::io::empty())
                .map_err(fail)?;
        } else {
            self.summary.skipped.push(rel.to_owned());
            return Ok(());
        }
        self.summary.entries += 1;
        Ok(())
    }

    // ANCHOR: overlay_to_oci
    /// An overlay whiteout `NAME` (char device 0/0) becomes the empty file `.wh.NAME`.
    fn whiteout(&mut self, rel: &Path, meta: &Metadata) -> Result<(), LayerError> {
        let mut name = OsString::from(WHITEOUT_PREFIX);
        name.push(rel.file_name().unwrap_or_default());
        self.marker(&rel.with_file_name(name), meta)?;
        self.summary.whiteouts += 1;
        Ok(())
    }
    // ANCHOR_END: overlay_to_oci

    /// An empty regular file entry, as OCI whiteouts and opaque markers are.
    fn marker(&mut self, rel: &Path, meta: &Metadata) -> Result<(), LayerError> {
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(0);
        header.set_mtime(meta.mtime().max(0) as u64);
        self.builder
            .append_data(&mut header, rel, std::io::empty())
            .map_err(LayerError::io("write layer entry", rel))?;
        self.summary.entries += 1;
        Ok(())
    }
}

/// Reads exactly `left` bytes of `inner`: running out earlier is an error, so a file cut
/// short while it is packed never leaves its tar entry shorter than its header says.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being packed",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
