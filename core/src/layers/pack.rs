//! A directory → an OCI layer tar.
//!
//! Used for two kinds of directory: a *plain* one (`vessel image import DIR`, the default
//! rootfs as the base image) and a container's overlay *upper* dir (`vessel commit`),
//! where overlay's whiteouts (char device 0/0) become `.wh.NAME` entries and opaque
//! directories (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry. Names are sorted,
//! so the same tree always packs to the same bytes and the same digest.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header, HeaderMode};

use super::error::LayerError;
use super::pax;
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
pub fn pack_dir(src: &Path, out: impl Write, kind: SourceKind) -> Result<PackSummary, LayerError> {
    let mut packer = Packer {
        src,
        kind,
        builder: tar::Builder::new(out),
        hard_links: HashMap::new(),
        summary: PackSummary::default(),
    };
    packer.walk(Path::new(""))?;
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
    fn walk(&mut self, rel: &Path) -> Result<(), LayerError> {
        let dir = self.src.join(rel);
        let mut names: Vec<OsString> = fs::read_dir(&dir)
            .map_err(LayerError::io("read directory", &dir))?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(LayerError::io("read directory", &dir))?;
        names.sort();
        for name in names {
            let child = rel.join(&name);
            let full = self.src.join(&child);
            if name.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()) {
                return Err(LayerError::Unpackable {
                    path: full,
                    reason: "names starting with \".wh.\" are reserved for whiteouts in OCI layers (rename it)",
                });
            }
            let meta = fs::symlink_metadata(&full).map_err(LayerError::io("inspect", &full))?;
            self.entry(&child, &full, &meta)?;
        }
        Ok(())
    }

    fn entry(&mut self, rel: &Path, full: &Path, meta: &Metadata) -> Result<(), LayerError> {
        let file_type = meta.file_type();
        if self.kind == SourceKind::Overlay && whiteout::is_overlay_whiteout(meta) {
            return self.whiteout(rel, meta);
        }
        let mut header = Header::new_gnu();
        header.set_metadata_in_mode(meta, HeaderMode::Complete);
        let xattrs = pax::layer_xattrs(full).map_err(LayerError::io("read xattrs of", full))?;
        let fail = LayerError::io("write layer entry for", full);
        if !xattrs.is_empty() {
            pax::append_pax(&mut self.builder, &xattrs)
                .map_err(LayerError::io("write xattrs of", full))?;
        }
        if file_type.is_dir() {
            self.builder
                .append_data(&mut header, rel, std::io::empty())
                .map_err(fail)?;
            self.summary.entries += 1;
            if self.kind == SourceKind::Overlay
                && whiteout::is_opaque(full).map_err(LayerError::io("read xattrs of", full))?
            {
                self.marker(&rel.join(OPAQUE_MARKER), meta)?;
                self.summary.opaque_dirs += 1;
            }
            return self.walk(rel);
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
            let file = File::open(full).map_err(LayerError::io("open", full))?;
            self.builder
                .append_data(&mut header, rel, file)
                .map_err(fail)?;
        } else if file_type.is_symlink() {
            let target = fs::read_link(full).map_err(LayerError::io("read symlink", full))?;
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
