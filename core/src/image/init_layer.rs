//! The init layer: the files that describe *this* container to itself.
//!
//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` differ per container, so they
//! belong in no image. Docker keeps them in a small layer between the image and the
//! container's writable layer; vessel does the same. Being a read-only lower layer, it is
//! never part of what `vessel commit` packs (that is only the upper layer).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use nix::fcntl::OFlag;

use crate::security::InRoot;

// ANCHOR: init_layer
/// Writes the init layer's files into the new directory `dir`, each resolved inside it
/// and created new (`O_EXCL`): nothing is written through a symlink, wherever it points.
pub fn write(dir: &Path, hostname: &str) -> io::Result<()> {
    fs::create_dir(dir)?;
    let layer = InRoot::open(dir)?;
    layer.create_dir_all("etc", 0o755)?;
    write_new(&layer, "etc/hostname", format!("{hostname}\n").as_bytes())?;
    let hosts = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    );
    write_new(&layer, "etc/hosts", hosts.as_bytes())?;
    // The host's resolvers, as docker copies them; a missing file gives an empty one.
    let resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    write_new(&layer, "etc/resolv.conf", resolv.as_bytes())
}

/// Creates the new file `rel` in `layer` holding `bytes` (mode 0644); an existing file
/// or symlink there is an error, never written through.
pub(crate) fn write_new(layer: &InRoot, rel: &str, bytes: &[u8]) -> io::Result<()> {
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
    let mut file = fs::File::from(layer.open_with(rel, flags, 0o644)?);
    file.write_all(bytes)
}
// ANCHOR_END: init_layer

/// Replaces the contents of the init layer's file `rel` (`etc/hosts`, `etc/resolv.conf`)
/// in place: the network writes the container's address and peers there before the
/// start, and rewrites a running container's `/etc/hosts` when a peer on its network
/// comes or goes (the overlay shows a lower file's new contents until the container
/// copies it up). Resolved inside the layer, never through a symlink.
pub fn rewrite(dir: &Path, rel: &str, bytes: &[u8]) -> io::Result<()> {
    let layer = InRoot::open(dir)?;
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW;
    let mut file = fs::File::from(layer.open_with(rel, flags, 0o644)?);
    file.write_all(bytes)
}

/// The files the init layer holds, as paths inside the container.
pub const FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_files_are_never_written_through_a_symlink() {
        let host = tempfile::tempdir().unwrap();
        let secret = host.path().join("shadow");
        fs::write(&secret, "host\n").unwrap();
        let layer_dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(host.path(), layer_dir.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(&secret, layer_dir.path().join("hosts")).unwrap();
        let layer = InRoot::open(layer_dir.path()).unwrap();
        // `etc` points at a host directory: resolved in the layer, where it is missing.
        assert!(write_new(&layer, "etc/hostname", b"x\n").is_err());
        // A symlink in the file's own place is refused, not followed.
        assert!(write_new(&layer, "hosts", b"x\n").is_err());
        assert_eq!(fs::read_dir(host.path()).unwrap().count(), 1);
        assert_eq!(fs::read_to_string(&secret).unwrap(), "host\n");
        // The real thing: a new directory gets the three files.
        let fresh = layer_dir.path().join("init");
        write(&fresh, "web").unwrap();
        assert_eq!(
            fs::read_to_string(fresh.join("etc/hostname")).unwrap(),
            "web\n"
        );
    }
}
