//! Writing an initramfs: a cpio archive in the "newc" format the kernel unpacks into its
//! first root filesystem (`Documentation/driver-api/early-userspace/buffer-format.rst`).
//! Each entry is a 110-byte ASCII header, the name, then the data, each padded to 4
//! bytes; the archive ends with an entry named `TRAILER!!!`. The kernel takes it
//! uncompressed, which saves compressing ~100 MB of binaries on every run.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::Path;

/// An archive being written: entries are added in order, parents first.
pub struct Archive<W: Write> {
    out: W,
    /// Directories already in the archive, so each parent is added once.
    dirs: BTreeSet<String>,
    next_inode: u32,
}

impl<W: Write> Archive<W> {
    pub fn new(out: W) -> Archive<W> {
        Archive {
            out,
            dirs: BTreeSet::new(),
            next_inode: 1,
        }
    }

    /// Adds the directory `path` (relative, e.g. `usr/bin`) and its missing parents.
    pub fn dir(&mut self, path: &str) -> io::Result<()> {
        let path = path.trim_matches('/');
        if path.is_empty() || self.dirs.contains(path) {
            return Ok(());
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent)?;
        }
        self.dirs.insert(path.to_owned());
        self.entry(path, libc::S_IFDIR | 0o755, &[])
    }

    /// Adds a regular file with `mode` (permission bits) and `data`.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        let path = path.trim_matches('/');
        self.parent_of(path)?;
        self.entry(path, libc::S_IFREG | (mode & 0o7777), data)
    }

    /// Adds a copy of the host file `source` at `path`, keeping its permission bits.
    pub fn copy(&mut self, path: &str, source: &Path) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let data = std::fs::read(source)
            .map_err(|e| io::Error::new(e.kind(), format!("read {}: {e}", source.display())))?;
        let mode = std::fs::metadata(source)?.permissions().mode();
        self.file(path, mode, &data)
    }

    /// Writes the trailer and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, &[])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn parent_of(&mut self, path: &str) -> io::Result<()> {
        match path.rsplit_once('/') {
            Some((parent, _)) => self.dir(parent),
            None => Ok(()),
        }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        let inode = self.next_inode;
        self.next_inode += 1;
        let nlink = if mode & libc::S_IFMT == libc::S_IFDIR {
            2
        } else {
            1
        };
        let size = u32::try_from(data.len())
            .map_err(|_| io::Error::other(format!("{name}: larger than 4 GiB")))?;
        // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
        // rdevmajor, rdevminor, namesize (with the NUL), check.
        let header = format!(
            "070701{inode:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{:08x}{size:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&[0])?;
        self.pad(header.len() + name.len() + 1)?;
        self.out.write_all(data)?;
        self.pad(data.len())
    }

    fn pad(&mut self, written: usize) -> io::Result<()> {
        let padding = (4 - written % 4) % 4;
        self.out.write_all(&[0; 3][..padding])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_aligned_and_parents_come_first() {
        let mut archive = Archive::new(Vec::new());
        archive.file("a/b/c.txt", 0o644, b"hello").unwrap();
        archive.file("a/d", 0o600, b"").unwrap();
        let bytes = archive.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let text = String::from_utf8_lossy(&bytes);
        let order: Vec<usize> = [
            "a\0",
            "a/b\0",
            "a/b/c.txt\0",
            "hello",
            "a/d\0",
            "TRAILER!!!",
        ]
        .iter()
        .map(|needle| text.find(needle).expect(needle))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // The header of the first entry: a directory (040755), one NUL-terminated name.
        assert!(text.starts_with("07070100000001000041ed"));
    }

    #[test]
    fn the_host_cpio_reads_it_back() {
        if crate::packages::find_program("cpio").is_none() {
            eprintln!("skipped: no cpio on this machine to cross-check the archive");
            return;
        }
        let tmp = std::env::temp_dir().join(format!("xtask-cpio-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let mut archive = Archive::new(Vec::new());
        archive.file("bin/tool", 0o755, b"#!/bin/sh\n").unwrap();
        archive.file("bin/data", 0o644, b"12345").unwrap();
        std::fs::write(tmp.join("archive.cpio"), archive.finish().unwrap()).unwrap();
        let out = std::process::Command::new("cpio")
            .args(["-it", "-F", "archive.cpio"])
            .current_dir(&tmp)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(out.status.success(), "{out:?}");
        let listing = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            listing.lines().collect::<Vec<_>>(),
            ["bin", "bin/tool", "bin/data"]
        );
    }
}
