//! Keeping a layer inside its directory.
//!
//! A layer tar comes from outside and may be hostile: `../` in a name, an entry written
//! *through* a symlink planted by an earlier entry (`etc -> /etc`, then `etc/passwd`), a
//! relative symlink that climbs out, a hard link to a host file, device nodes, or an
//! extension header claiming gigabytes. [`Guard`] checks each entry before anything is
//! written and never follows a symlink while walking to the place an entry goes.

use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::error::LayerError;

/// Longest path an entry may have (the kernel's `PATH_MAX`).
const MAX_PATH: usize = 4096;
/// Longest file name (the kernel's `NAME_MAX`).
const MAX_NAME: usize = 255;
/// Largest GNU long-name or PAX extension header accepted: real ones are a few hundred
/// bytes, so anything bigger is an attempt to make the reader allocate.
pub(crate) const MAX_EXTENSION: u64 = 1 << 20;

/// Checks entries of one tar being written into one directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guard<'a> {
    pub tar: &'a Path,
    pub root: &'a Path,
}

impl Guard<'_> {
    /// The refusal for `entry`, saying why.
    pub fn hostile(&self, entry: impl AsRef<[u8]>, reason: impl Into<String>) -> LayerError {
        LayerError::Hostile {
            tar: self.tar.to_owned(),
            entry: String::from_utf8_lossy(entry.as_ref()).into_owned(),
            reason: reason.into(),
        }
    }

    /// Refuses archives whose extension headers are larger than [`MAX_EXTENSION`],
    /// before the tar reader would load them into memory, and archives cut short: an
    /// entry whose data runs past the end of the file is GNU tar's "Unexpected EOF in
    /// archive" (the tar reader would silently stop there). Returns how many entries the
    /// archive holds.
    pub fn prescan(&self) -> Result<u64, LayerError> {
        let corrupt = |what| {
            let tar = self.tar.to_owned();
            move |source| LayerError::CorruptTar { tar, what, source }
        };
        let file = File::open(self.tar).map_err(LayerError::io("open layer", self.tar))?;
        let length = file
            .metadata()
            .map_err(LayerError::io("inspect layer", self.tar))?
            .len();
        let mut archive = tar::Archive::new(file);
        let entries = archive
            .entries_with_seek()
            .map_err(corrupt("cannot read the first header"))?
            .raw(true);
        let mut count = 0;
        for entry in entries {
            let entry =
                entry.map_err(corrupt("Unexpected EOF in archive: a header is cut short"))?;
            let header = entry.header();
            let kind = header.entry_type();
            let extension = kind.is_gnu_longname()
                || kind.is_gnu_longlink()
                || kind.is_pax_local_extensions()
                || kind.is_pax_global_extensions();
            let size = header.entry_size().map_err(corrupt("bad size field"))?;
            if extension && size > MAX_EXTENSION {
                return Err(self.hostile(
                    header.path_bytes(),
                    format!("has an extension header of {size} bytes (at most {MAX_EXTENSION} are accepted)"),
                ));
            }
            if entry.raw_file_position().saturating_add(size) > length {
                return Err(LayerError::CorruptTar {
                    tar: self.tar.to_owned(),
                    what: "Unexpected EOF in archive: an entry's data is cut short",
                    source: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{:?} needs {size} bytes from offset {}, the file has {length}",
                            String::from_utf8_lossy(&header.path_bytes()),
                            entry.raw_file_position()
                        ),
                    ),
                });
            }
            count += 1;
        }
        Ok(count)
    }

    /// The entry's path relative to the layer root, or `None` for the root itself.
    /// `./` prefixes are dropped; absolute paths and `..` are refused.
    pub fn entry_path(&self, bytes: &[u8]) -> Result<Option<PathBuf>, LayerError> {
        if bytes.len() > MAX_PATH {
            return Err(self.hostile(
                &bytes[..64],
                format!("has a path longer than {MAX_PATH} bytes"),
            ));
        }
        let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
        let mut clean = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Normal(name) if name.len() > MAX_NAME => {
                    return Err(
                        self.hostile(bytes, format!("has a name longer than {MAX_NAME} bytes"))
                    );
                }
                Component::Normal(name) => clean.push(name),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.hostile(
                        bytes,
                        "has an absolute path (layer paths are relative to the layer root)",
                    ));
                }
                Component::ParentDir => {
                    return Err(
                        self.hostile(bytes, "contains \"..\", which would climb out of the layer")
                    );
                }
            }
        }
        Ok((!clean.as_os_str().is_empty()).then_some(clean))
    }

    /// With `create`: makes sure every ancestor of `rel` is a real directory, creating
    /// missing ones, and refuses to pass through a symlink or a file. Without: only looks,
    /// and returns whether the parent is a real directory reached through real
    /// directories (a symlink or file on the way means there is nothing below to touch).
    pub fn ensure_parent(&self, rel: &Path, create: bool) -> Result<bool, LayerError> {
        let mut dir = self.root.to_owned();
        let Some(parent) = rel.parent() else {
            return Ok(true);
        };
        for name in parent.components() {
            dir.push(name);
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) if !create => return Ok(false),
                Ok(meta) if meta.file_type().is_symlink() => {
                    let to = fs::read_link(&dir).unwrap_or_default();
                    return Err(self.hostile(
                        rel.as_os_str().as_bytes(),
                        format!(
                            "would be written through the symlink {:?} -> {to:?}, which could lead outside the layer",
                            dir.strip_prefix(self.root).unwrap_or(&dir)
                        ),
                    ));
                }
                Ok(_) => {
                    return Err(self.hostile(
                        rel.as_os_str().as_bytes(),
                        format!(
                            "has a parent {:?} that is not a directory",
                            dir.strip_prefix(self.root).unwrap_or(&dir)
                        ),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    fs::create_dir(&dir).map_err(LayerError::io("create directory", &dir))?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(LayerError::io("inspect", &dir)(e)),
            }
        }
        Ok(true)
    }

    /// Refuses a relative symlink at `rel` whose target climbs above the layer root.
    /// Absolute targets are fine: in the container they resolve inside its own root, and
    /// vessel never follows a symlink while writing a layer.
    pub fn check_symlink(&self, rel: &Path, target: &Path) -> Result<(), LayerError> {
        if target.is_absolute() {
            return Ok(());
        }
        let mut depth = rel.components().count() as isize - 1;
        for component in target.components() {
            match component {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
            if depth < 0 {
                return Err(self.hostile(
                    rel.as_os_str().as_bytes(),
                    format!("is a symlink to {target:?}, which points outside the layer"),
                ));
            }
        }
        Ok(())
    }

    /// The path inside the layer a hard link entry at `rel` points to, which must already
    /// be in the layer and not be a directory.
    pub fn hard_link_target(&self, rel: &Path, target: &[u8]) -> Result<PathBuf, LayerError> {
        let entry = rel.as_os_str().as_bytes();
        let Some(target_rel) = self.entry_path(target)? else {
            return Err(self.hostile(entry, "is a hard link to the layer root"));
        };
        if !self.ensure_parent(&target_rel, false)? {
            return Err(self.hostile(
                entry,
                format!("is a hard link to {target_rel:?}, which is not in the layer"),
            ));
        }
        let full = self.root.join(&target_rel);
        match fs::symlink_metadata(&full) {
            Ok(meta) if !meta.is_dir() => Ok(full),
            _ => Err(self.hostile(
                entry,
                format!("is a hard link to {target_rel:?}, which is not a file in the layer"),
            )),
        }
    }
}

/// Removes whatever is at `path` without following symlinks; a missing path is fine.
pub(crate) fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
