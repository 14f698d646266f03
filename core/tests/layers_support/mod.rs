//! Helpers shared by the layer tests: a directory tree read into a comparable value,
//! and raw tar entries for hostile archives.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use vessel::layers::whiteout;

/// What a path is, as far as the tests compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File { content: Vec<u8>, mode: u32 },
    Dir { mode: u32, opaque: bool },
    Symlink(PathBuf),
    Whiteout,
    Other,
}

/// Every path below `root` (not `root` itself), without following symlinks.
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Node>) {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {dir:?}: {e}")) {
        let entry = entry.unwrap();
        let child = rel.join(entry.file_name());
        let full = root.join(&child);
        let meta = fs::symlink_metadata(&full).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let node = if whiteout::is_overlay_whiteout(&meta) {
            Node::Whiteout
        } else if meta.file_type().is_symlink() {
            Node::Symlink(fs::read_link(&full).unwrap())
        } else if meta.is_dir() {
            let opaque = whiteout::is_opaque(&full).unwrap();
            walk(root, &child, out);
            Node::Dir { mode, opaque }
        } else if meta.is_file() {
            Node::File {
                content: fs::read(&full).unwrap(),
                mode,
            }
        } else {
            let _ = meta.rdev();
            Node::Other
        };
        out.insert(child, node);
    }
}

/// A raw tar header for `kind` with the name bytes written as they are (the tar crate's
/// own setters refuse `..`, which is exactly what hostile archives contain).
pub fn raw_header(name: &[u8], kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    header
}

/// Sets a header's link name bytes as they are.
pub fn set_raw_link(header: &mut tar::Header, target: &[u8]) {
    header.as_old_mut().linkname[..target.len()].copy_from_slice(target);
    header.set_cksum();
}
