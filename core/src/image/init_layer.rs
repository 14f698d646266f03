//! The init layer: the files that describe *this* container to itself.
//!
//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` differ per container, so they
//! belong in no image. Docker keeps them in a small layer between the image and the
//! container's writable layer; vessel does the same. Being a read-only lower layer, it is
//! never part of what `vessel commit` packs (that is only the upper layer).

use std::fs;
use std::io;
use std::path::Path;

// ANCHOR: init_layer
/// Writes the init layer's files into `dir`.
pub fn write(dir: &Path, hostname: &str) -> io::Result<()> {
    let etc = dir.join("etc");
    fs::create_dir_all(&etc)?;
    fs::write(etc.join("hostname"), format!("{hostname}\n"))?;
    fs::write(
        etc.join("hosts"),
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
        ),
    )?;
    // The host's resolvers, as docker copies them; a missing file gives an empty one.
    let resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    fs::write(etc.join("resolv.conf"), resolv)?;
    Ok(())
}
// ANCHOR_END: init_layer

/// The files the init layer holds, as paths inside the container.
pub const FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
