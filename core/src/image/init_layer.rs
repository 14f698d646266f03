//! The init layer: the files that describe *this* container to itself.
//!
//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` differ per container, so they
//! belong in no image. Docker keeps them in a small layer between the image and the
//! container's writable layer; vessel does the same. Being a read-only lower layer, it is
//! never part of what `vessel commit` packs (that is only the upper layer).

use std::fs;
use std::io;
use std::path::Path;

use crate::security::InRoot;

// ANCHOR: init_layer
/// Writes the init layer's files into the new directory `dir`, each resolved inside it
/// and created new (`O_EXCL`): nothing is written through a symlink, wherever it points.
pub fn write(dir: &Path, hostname: &str) -> io::Result<()> {
    fs::create_dir(dir)?;
    let layer = InRoot::open(dir)?;
    layer.write_file(
        Path::new("etc/hostname"),
        format!("{hostname}\n").as_bytes(),
        0o644,
    )?;
    let hosts = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    );
    layer.write_file(Path::new("etc/hosts"), hosts.as_bytes(), 0o644)?;
    // The host's resolvers, as docker copies them; a missing file gives an empty one.
    let resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    layer.write_file(Path::new("etc/resolv.conf"), resolv.as_bytes(), 0o644)?;
    Ok(())
}
// ANCHOR_END: init_layer

/// The files the init layer holds, as paths inside the container.
pub const FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
