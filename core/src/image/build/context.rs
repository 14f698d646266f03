//! The build context: the directory whose files `COPY` and `ADD` may take, and nothing
//! beyond it.
//!
//! A source path is cleaned lexically first: `..` that would climb above the context
//! is refused. Every lookup then goes through [`InRoot`] (openat2 `RESOLVE_IN_ROOT`), so
//! a symlink in the context (`leak -> /etc/shadow`, `up -> ../..`) resolves *inside*
//! the context, as if the context were `/`, and can never reach the host's files. A
//! named source that is a symlink is followed (inside the context), as docker does;
//! symlinks met while walking a directory are copied as symlinks, never followed.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use sha2::{Digest as _, Sha256};

use super::dockerignore::DockerIgnore;
use super::error::BuildError;
use crate::security::InRoot;

/// An open build context.
#[derive(Debug)]
pub struct Context {
    root: InRoot,
    ignore: DockerIgnore,
}

/// What one entry to copy is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symlink, copied as it is.
    Symlink(PathBuf),
}

/// One file, directory or symlink a source selects.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path in the context.
    pub rel: PathBuf,
    /// Its path below the destination (empty for a named directory itself).
    pub below: PathBuf,
    /// What it is.
    pub kind: EntryKind,
    /// Permission bits (with setuid/setgid/sticky).
    pub mode: u32,
    /// Modification time (seconds, nanoseconds).
    pub mtime: (i64, i64),
    /// Whether `rel` was named in the instruction (its final symlink was followed).
    pub named: bool,
}

/// What one source argument selects.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The source as written.
    pub source: String,
    /// Whether it names a directory (whose *contents* are copied).
    pub is_dir: bool,
    /// Its entries, the named one first, parents before children.
    pub entries: Vec<Entry>,
}

impl Context {
    /// Opens the context directory and reads its `.dockerignore`.
    pub fn open(dir: &Path) -> Result<Context, BuildError> {
        let root = InRoot::open(dir).map_err(|e| BuildError::Context {
            action: "open the build context",
            path: dir.to_owned(),
            source: e,
        })?;
        let ignore = match root.open_file(".dockerignore") {
            Ok(mut file) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                DockerIgnore::parse(&text)
            }
            Err(_) => DockerIgnore::default(),
        };
        Ok(Context { root, ignore })
    }

    /// The context directory.
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    // ANCHOR: select
    /// The entries source `source` (as written in a COPY/ADD on `line`) selects: one
    /// path, or the names a `*`/`?`/`[…]` pattern in its last element matches.
    pub fn select(&self, line: usize, source: &str) -> Result<Vec<Selection>, BuildError> {
        let outside = || BuildError::OutsideContext {
            line,
            source_path: source.to_owned(),
            context: self.path().to_owned(),
        };
        let not_found = || BuildError::SourceNotFound {
            line,
            source_path: source.to_owned(),
            context: self.path().to_owned(),
        };
        let rel = clean(source).ok_or_else(outside)?;
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
        let wildcard = name.as_deref().is_some_and(|n| n.contains(['*', '?', '[']));
        let named: Vec<PathBuf> = if wildcard {
            let parent = rel.parent().unwrap_or(Path::new("")).to_owned();
            let glob = globset::GlobBuilder::new(name.as_deref().unwrap_or_default())
                .literal_separator(true)
                .build()
                .map_err(|_| not_found())?
                .compile_matcher();
            let mut names: Vec<PathBuf> = self
                .list(&parent)
                .map_err(|_| not_found())?
                .into_iter()
                .filter(|n| glob.is_match(n))
                .map(|n| parent.join(n))
                .collect();
            names.sort();
            names
        } else {
            vec![rel]
        };
        let mut selections = Vec::new();
        for rel in named {
            if !rel.as_os_str().is_empty() && self.ignore.excludes(&rel) {
                continue;
            }
            // The named path's final symlink is followed, inside the context.
            let Ok(meta) = self.root.metadata(&rel) else {
                continue;
            };
            let mut entries = vec![Entry {
                rel: rel.clone(),
                below: PathBuf::new(),
                kind: if meta.is_dir() {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                },
                mode: meta.mode() & 0o7777,
                mtime: (meta.mtime(), meta.mtime_nsec()),
                named: true,
            }];
            if meta.is_dir() {
                self.walk(&rel, Path::new(""), &mut entries)
                    .map_err(|e| BuildError::Context {
                        action: "read the build context at",
                        path: self.path().join(&rel),
                        source: e,
                    })?;
            } else if !meta.is_file() {
                continue;
            }
            selections.push(Selection {
                source: source.to_owned(),
                is_dir: meta.is_dir(),
                entries,
            });
        }
        // A pattern may match nothing (docker allows an empty wildcard); a plain path
        // must name something.
        if selections.is_empty() && !wildcard {
            return Err(not_found());
        }
        Ok(selections)
    }
    // ANCHOR_END: select

    /// The names in directory `rel` (resolved inside the context).
    fn list(&self, rel: &Path) -> io::Result<Vec<PathBuf>> {
        let dir = self.root.open_with(
            if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            },
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            0,
        )?;
        // Listed through the descriptor, so the directory is the one resolved in root.
        let mut names: Vec<PathBuf> =
            std::fs::read_dir(format!("/proc/thread-self/fd/{}", dir.as_raw_fd()))?
                .map(|e| e.map(|e| PathBuf::from(e.file_name())))
                .collect::<io::Result<_>>()?;
        names.sort();
        Ok(names)
    }

    /// Adds everything under directory `rel` to `entries`, never following a symlink.
    fn walk(&self, rel: &Path, below: &Path, entries: &mut Vec<Entry>) -> io::Result<()> {
        for name in self.list(&rel.join(below))? {
            let below = below.join(&name);
            let path = rel.join(&below);
            if self.ignore.excludes(&path) {
                continue;
            }
            let meta = self.root.symlink_metadata(&path)?;
            let kind = if meta.file_type().is_symlink() {
                let fd = self.root.resolve_no_follow(&path)?;
                EntryKind::Symlink(PathBuf::from(
                    nix::fcntl::readlinkat(&fd, "").map_err(io::Error::from)?,
                ))
            } else if meta.is_dir() {
                EntryKind::Dir
            } else if meta.is_file() {
                EntryKind::File
            } else {
                continue; // sockets, fifos, devices: docker skips them too
            };
            let is_dir = kind == EntryKind::Dir;
            entries.push(Entry {
                rel: path.clone(),
                below: below.clone(),
                kind,
                mode: meta.mode() & 0o7777,
                mtime: (meta.mtime(), meta.mtime_nsec()),
                named: false,
            });
            if is_dir {
                self.walk(rel, &below, entries)?;
            }
        }
        Ok(())
    }

    /// Opens a regular file entry for reading: a named one through its final symlink
    /// (inside the context), any other one only if it is not a symlink.
    pub fn open_entry(&self, entry: &Entry) -> io::Result<File> {
        let flags = if entry.named {
            OFlag::O_RDONLY
        } else {
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW
        };
        self.root.open_with(&entry.rel, flags, 0).map(File::from)
    }

    // ANCHOR: content_digest
    /// The digest of what `selections` would copy: each entry's place, kind, mode and
    /// bytes (not its times or owner, as docker's cache ignores them). The build cache
    /// keys COPY and ADD on it, so editing a copied file misses the cache.
    pub fn digest(&self, selections: &[Selection]) -> io::Result<String> {
        let mut hash = Sha256::new();
        for selection in selections {
            hash.update(selection.source.as_bytes());
            for entry in &selection.entries {
                hash.update(entry.below.as_os_str().as_encoded_bytes());
                hash.update(format!("\0{:o}\0", entry.mode));
                match &entry.kind {
                    EntryKind::Dir => hash.update(b"dir"),
                    EntryKind::Symlink(target) => {
                        hash.update(b"symlink\0");
                        hash.update(target.as_os_str().as_encoded_bytes());
                    }
                    EntryKind::File => {
                        hash.update(b"file\0");
                        io::copy(&mut self.open_entry(entry)?, &mut hash)?;
                    }
                }
                hash.update(b"\n");
            }
        }
        Ok(format!("{:x}", hash.finalize()))
    }
    // ANCHOR_END: content_digest
}

/// `source` relative to the context root, `.` dropped and `..` applied; `None` when
/// `..` would climb above the root.
fn clean(source: &str) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(source).components() {
        match component {
            Component::Normal(name) => parts.push(name),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(parts.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::clean;
    use std::path::PathBuf;

    #[test]
    fn dot_dot_may_not_climb_out() {
        assert_eq!(clean("./a/../b"), Some(PathBuf::from("b")));
        assert_eq!(clean("/a"), Some(PathBuf::from("a")));
        assert_eq!(clean("."), Some(PathBuf::new()));
        assert_eq!(clean("../x"), None);
        assert_eq!(clean("a/../../x"), None);
    }
}
