//! An archive's files, from a directory or a tar, by name, without leaving it.
//!
//! Every name comes from a manifest someone else wrote, so it is checked before use:
//! relative, no `..`, and it must be a regular file. In a directory the file is opened
//! with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so a symlinked blob, or a
//! symlinked `blobs/` directory, is refused by the kernel rather than followed to a host
//! file. In a tar only regular-file entries are files; a symlink entry names nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::Mode;

use super::error::ArchiveError;

/// Largest JSON document (index, manifest, config, manifest.json) accepted: real ones are
/// a few kilobytes; containerd refuses manifests above the same 4 MiB.
pub const MAX_JSON: u64 = 4 << 20;

/// Where an archive's files come from.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Dir(OwnedFd),
    /// Regular-file entries of a tar: name → (data offset, size).
    Tar(HashMap<String, (u64, u64)>),
}

impl Source {
    /// Opens `path`: a directory, or a tar file (indexed once, checked not to be cut short).
    pub fn open(path: &Path) -> Result<Source, ArchiveError> {
        let io_error = |action: &str| {
            let archive = path.to_owned();
            let action = action.to_owned();
            move |source| ArchiveError::Io {
                archive,
                action,
                source,
            }
        };
        let meta = std::fs::metadata(path).map_err(io_error("read"))?;
        let kind = if meta.is_dir() {
            let fd = nix::fcntl::open(
                path,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_error("open directory")(e.into()))?;
            Kind::Dir(fd)
        } else {
            // Oversized extension headers are refused before the tar reader loads them.
            crate::layers::count_entries(path).map_err(|source| match source {
                // Only what is wrong, not the bytes that were not a header.
                crate::layers::LayerError::CorruptTar { what, .. } => ArchiveError::Io {
                    archive: path.to_owned(),
                    action: "read as an archive (it is neither a directory nor a tar)".into(),
                    source: io::Error::new(io::ErrorKind::InvalidData, what),
                },
                source => ArchiveError::Tar {
                    archive: path.to_owned(),
                    source,
                },
            })?;
            Kind::Tar(index_tar(path, meta.len()).map_err(io_error("read as a tar archive"))?)
        };
        Ok(Source {
            path: path.to_owned(),
            kind,
        })
    }

    /// The archive's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the archive holds the file `name`.
    pub fn has(&self, name: &str) -> bool {
        self.open_file(name).is_ok()
    }

    /// Opens the file `name` and returns it with its size.
    pub fn open_file(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64), ArchiveError> {
        let clean = self.clean(name)?;
        match &self.kind {
            Kind::Dir(root) => {
                let how = OpenHow::new()
                    .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
                    .resolve(
                        ResolveFlag::RESOLVE_BENEATH
                            | ResolveFlag::RESOLVE_NO_SYMLINKS
                            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
                    );
                let fd = match openat2(root.as_fd(), clean.as_str(), how) {
                    Ok(fd) => fd,
                    Err(nix::Error::ENOENT) => return Err(self.missing(name)),
                    Err(nix::Error::ELOOP | nix::Error::EXDEV) => {
                        return Err(self.outside(name, "it is or passes through a symlink"));
                    }
                    Err(e) => return Err(self.io(format!("open {name:?}"), e.into())),
                };
                let file = File::from(fd);
                let meta = file
                    .metadata()
                    .map_err(|e| self.io(format!("inspect {name:?}"), e))?;
                if !meta.is_file() {
                    return Err(self.outside(name, "it is not a regular file"));
                }
                Ok((Box::new(file), meta.len()))
            }
            Kind::Tar(entries) => {
                let Some(&(offset, size)) = entries.get(&clean) else {
                    return Err(self.missing(name));
                };
                let mut file = File::open(&self.path).map_err(|e| self.io("open".to_owned(), e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| self.io(format!("seek to {name:?}"), e))?;
                Ok((Box::new(file.take(size)), size))
            }
        }
    }

    /// Reads the JSON document `name` whole, refusing one larger than [`MAX_JSON`].
    pub fn read_small(&self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let (reader, size) = self.open_file(name)?;
        if size > MAX_JSON {
            return Err(ArchiveError::TooLarge {
                archive: self.path.clone(),
                name: name.to_owned(),
                size,
                max: MAX_JSON,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .take(MAX_JSON)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(format!("read {name:?}"), e))?;
        Ok(bytes)
    }

    /// `name` as a plain relative path: `./` dropped, absolute paths and `..` refused.
    fn clean(&self, name: &str) -> Result<String, ArchiveError> {
        if name.contains('\0') {
            return Err(self.outside(name, "it contains a NUL byte"));
        }
        let mut parts = Vec::new();
        for component in Path::new(name).components() {
            match component {
                Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.outside(name, "it is an absolute path"));
                }
                Component::ParentDir => return Err(self.outside(name, "it contains \"..\"")),
            }
        }
        if parts.is_empty() {
            return Err(self.outside(name, "it names the archive's root"));
        }
        Ok(parts.join("/"))
    }

    fn missing(&self, name: &str) -> ArchiveError {
        ArchiveError::Missing {
            archive: self.path.clone(),
            name: name.to_owned(),
        }
    }

    fn outside(&self, name: &str, reason: &'static str) -> ArchiveError {
        ArchiveError::Outside {
            archive: self.path.clone(),
            name: name.to_owned(),
            reason,
        }
    }

    pub(crate) fn io(&self, action: String, source: io::Error) -> ArchiveError {
        ArchiveError::Io {
            archive: self.path.clone(),
            action,
            source,
        }
    }
}

/// The regular files of the tar at `path` (of `length` bytes): name → (offset, size).
/// An entry whose data runs past the end of the file is an error, as GNU tar's
/// "Unexpected EOF in archive".
fn index_tar(path: &Path, length: u64) -> io::Result<HashMap<String, (u64, u64)>> {
    let mut archive = tar::Archive::new(File::open(path)?);
    let mut entries = HashMap::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        let size = entry.header().entry_size()?;
        let offset = entry.raw_file_position();
        if offset.saturating_add(size) > length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "Unexpected EOF in archive: {:?} needs {size} bytes from offset {offset}, the file has {length}",
                    String::from_utf8_lossy(&entry.path_bytes())
                ),
            ));
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let clean: Vec<&str> = name
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        entries.insert(clean.join("/"), (offset, size));
    }
    if entries.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no files in it (an empty or all-zero tar)",
        ));
    }
    Ok(entries)
}
