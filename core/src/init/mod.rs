//! `vessel run --init`: a tiny init (`src/bin/vessel-init.rs`) as the container's PID 1.
//!
//! How it gets in without slowing down every other run: `build.rs` compiles the init as
//! a static binary and the `vessel` binary carries it (`include_bytes!`). The first
//! `--init` run writes it once under the state root (`$VESSEL_ROOT/init/`, named by a
//! hash of its bytes that `build.rs` computed); each `--init` container gets it bind-mounted read-only at
//! [`PATH_IN_CONTAINER`], docker's `/sbin/docker-init` under vessel's name (or at
//! [`PATH_ON_PLAIN_ROOTFS`] on a plain rootfs directory), and runs
//! `vessel-init -- COMMAND…` instead of `COMMAND…`. Nothing is re-executed: the child
//! `execve`s the init directly, and a run without `--init` does none of this.
//!
//! For an image-based container the mount point is an empty file in its *init layer*,
//! so nothing of it reaches the writable layer or a `vessel commit`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub mod error;

use crate::init::error::{InitError, Result};
use crate::process::spec::ContainerSpec;
use crate::rootfs::volume::Volume;

/// The static init, built by `build.rs`.
pub const BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vessel-init"));

/// Where the init appears inside an image-based container.
pub const PATH_IN_CONTAINER: &str = "/sbin/vessel-init";

/// Where it appears in a container on a plain rootfs directory (`--rootfs`, `--userns`):
/// that directory is the user's, or the shared default rootfs, so nothing may be created
/// in it; the container's `/dev` is a tmpfs of its own, made fresh for each container.
pub const PATH_ON_PLAIN_ROOTFS: &str = "/dev/vessel-init";

/// A hash of [`BINARY`], computed by `build.rs`: it names the file on the host.
const BINARY_ID: &str = include_str!(concat!(env!("OUT_DIR"), "/vessel-init.id"));

/// The init's file on the host under `state_root`, written there on first use.
pub fn host_binary(state_root: &Path) -> Result<PathBuf> {
    let path = state_root
        .join("init")
        .join(format!("vessel-init-{BINARY_ID}"));
    if !path.exists() {
        install(&path).map_err(|source| InitError::Binary {
            path: path.clone(),
            source,
        })?;
    }
    Ok(path)
}

/// Writes the binary beside `path` and renames it into place, so a concurrent run never
/// mounts half a file.
fn install(path: &Path) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().expect("the init path has a directory");
    fs::create_dir_all(dir)?;
    let staged = dir.join(format!(
        ".vessel-init.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::write(&staged, BINARY)
        .and_then(|()| fs::set_permissions(&staged, fs::Permissions::from_mode(0o755)))
        .and_then(|()| fs::rename(&staged, path));
    if written.is_err() {
        let _ = fs::remove_file(&staged); // no half-written file left behind
    }
    written
}

/// Makes the empty mount point for the init inside `init_layer`, an image container's
/// own lower layer, so the bind mount needs no file in the writable layer.
/// Resolved inside the layer and created new, so no symlink there can redirect it.
pub fn make_mount_point(init_layer: &Path) -> std::io::Result<()> {
    let layer = crate::security::InRoot::open(init_layer)?;
    layer.create_dir_all(
        Path::new(PATH_IN_CONTAINER)
            .parent()
            .expect("the init path has a directory"),
        0o755,
    )?;
    match crate::image::init_layer::write_new(&layer, PATH_IN_CONTAINER, b"") {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Everything `--init` needs: the binary on the host, its mount point, and the spec
/// wrapped. With `init_layer` (an image-based container) the mount point is an empty
/// file there; without (a plain rootfs directory) the child makes it on its own `/dev`.
pub fn prepare(
    spec: ContainerSpec,
    state_root: &Path,
    init_layer: Option<&Path>,
) -> Result<ContainerSpec> {
    let binary = host_binary(state_root)?;
    let Some(layer) = init_layer else {
        return Ok(with_init(spec, &binary, PATH_ON_PLAIN_ROOTFS));
    };
    make_mount_point(layer).map_err(|source| InitError::Binary {
        path: layer.join(PATH_IN_CONTAINER.trim_start_matches('/')),
        source,
    })?;
    Ok(with_init(spec, &binary, PATH_IN_CONTAINER))
}

// ANCHOR: with_init
/// `spec`, with the init bind-mounted read-only at `path` and put in front of its command.
pub fn with_init(mut spec: ContainerSpec, host_binary: &Path, path: &str) -> ContainerSpec {
    let command = std::mem::take(&mut spec.argv);
    spec.argv = [path.to_owned(), "--".to_owned()]
        .into_iter()
        .chain(command)
        .collect();
    spec.volume(Volume {
        host: host_binary.to_owned(),
        container: PathBuf::from(path),
        read_only: true,
        attrs: 0,
    })
}
// ANCHOR_END: with_init

#[cfg(test)]
mod tests {
    use super::*;

    /// The program header types of a 64-bit little-endian ELF file.
    fn program_header_types(elf: &[u8]) -> Vec<u32> {
        let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
        let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
        let (size, count) = (u16_at(54), u16_at(56));
        (0..count)
            .map(|i| {
                let at = phoff + i * size;
                u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
            })
            .collect()
    }

    #[test]
    fn the_embedded_init_is_a_static_executable() {
        const PT_INTERP: u32 = 3;
        assert_eq!(&BINARY[..5], b"\x7fELF\x02", "a 64-bit ELF file");
        let types = program_header_types(BINARY);
        assert!(!types.is_empty());
        // No PT_INTERP: no dynamic loader, nothing the container's rootfs must provide.
        assert!(
            !types.contains(&PT_INTERP),
            "vessel-init asks for a dynamic loader: it was not linked statically"
        );
    }

    #[test]
    fn the_command_runs_under_the_init() {
        let spec = with_init(
            ContainerSpec::new("/r", ["sh", "-c", "x"]),
            Path::new("/i"),
            PATH_IN_CONTAINER,
        );
        assert_eq!(spec.argv, ["/sbin/vessel-init", "--", "sh", "-c", "x"]);
        assert_eq!(spec.volumes.len(), 1);
        assert!(spec.volumes[0].read_only);
    }

    #[test]
    fn the_binary_is_installed_once_and_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = host_binary(dir.path()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), BINARY);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(host_binary(dir.path()).unwrap(), path);
    }
}
