//! `mounts` of config.json: the standard filesystems vessel makes in every container
//! (`/proc`, `/dev`, `/dev/pts`, `/dev/shm`, `/sys`, `/dev/mqueue`, `/sys/fs/cgroup`,
//! always with docker's hardened flags), bind mounts (podman's `/etc/hosts`,
//! `/etc/hostname`, `/run/.containerenv`, its own `/dev/shm`; `-v` volumes) and tmpfs
//! mounts elsewhere. Any other type, or an option vessel would not honour, is refused
//! with the mount and the option named.

use std::path::PathBuf;

use oci_spec::runtime::{Mount, Spec};

use super::{BundleError, unsupported};
use crate::process::spec::ContainerSpec;
use crate::rootfs::mount_api::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID};
use crate::rootfs::tmpfs::TmpfsMount;
use crate::rootfs::volume::Volume;

/// The mounts vessel makes in every container, with the type each must have.
const STANDARD_MOUNTS: [(&str, &str); 7] = [
    ("/proc", "proc"),
    ("/dev", "tmpfs"),
    ("/dev/pts", "devpts"),
    ("/dev/shm", "tmpfs"),
    ("/sys", "sysfs"),
    ("/dev/mqueue", "mqueue"),
    ("/sys/fs/cgroup", "cgroup"),
];

/// Options of a bind mount that only say how it propagates or that it is a bind: the
/// binds vessel makes are private to the container's namespace already.
const BIND_NOOPS: [&str; 6] = ["bind", "rbind", "rprivate", "private", "rw", "relatime"];

/// Adds the bundle's bind and tmpfs mounts to `spec`, after checking every mount.
pub fn apply(config: &Spec, spec: &mut ContainerSpec) -> Result<(), BundleError> {
    for mount in config.mounts().iter().flatten() {
        let destination = mount.destination().to_string_lossy().into_owned();
        let kind = mount.typ().as_deref().unwrap_or("");
        let options = mount.options().clone().unwrap_or_default();
        let is_bind = kind == "bind" || options.iter().any(|o| o == "bind" || o == "rbind");
        if is_bind {
            spec.volumes.push(bind(mount, &destination, &options)?);
        } else if let Some((_, standard)) = STANDARD_MOUNTS.iter().find(|(d, _)| *d == destination)
        {
            if kind != *standard && !(kind.is_empty()) {
                return Err(unsupported(
                    format!("mounts[{destination}].type"),
                    format!("vessel mounts {standard} there, not {kind}"),
                ));
            }
        } else if kind == "tmpfs" {
            spec.tmpfs.push(tmpfs(&destination, &options)?);
        } else {
            return Err(unsupported(
                format!("mounts[{destination}]"),
                format!(
                    "type {kind:?}: vessel makes bind and tmpfs mounts, and its standard ones \
                     (/proc, /dev, /dev/pts, /dev/shm, /sys, /dev/mqueue, /sys/fs/cgroup)"
                ),
            ));
        }
    }
    Ok(())
}

/// A bind mount as a volume: `ro`, `nosuid`, `nodev`, `noexec` honoured, anything else
/// but the no-ops refused.
fn bind(mount: &Mount, destination: &str, options: &[String]) -> Result<Volume, BundleError> {
    let source = mount.source().clone().ok_or_else(|| {
        unsupported(
            format!("mounts[{destination}].source"),
            "a bind needs a source",
        )
    })?;
    let mut volume = Volume {
        host: source,
        container: PathBuf::from(destination),
        read_only: false,
        attrs: 0,
    };
    for option in options {
        match option.as_str() {
            "ro" => volume.read_only = true,
            "nosuid" => volume.attrs |= MOUNT_ATTR_NOSUID,
            "nodev" => volume.attrs |= MOUNT_ATTR_NODEV,
            "noexec" => volume.attrs |= MOUNT_ATTR_NOEXEC,
            noop if BIND_NOOPS.contains(&noop) => {}
            other => {
                return Err(unsupported(
                    format!("mounts[{destination}].options[{other}]"),
                    "vessel binds with ro, nosuid, nodev, noexec and private propagation only",
                ));
            }
        }
    }
    volume
        .check()
        .map_err(|e| unsupported(format!("mounts[{destination}]"), e.to_string()))?;
    Ok(volume)
}

/// A tmpfs elsewhere than the standard mounts, with docker's `--tmpfs` option syntax.
fn tmpfs(destination: &str, options: &[String]) -> Result<TmpfsMount, BundleError> {
    let given = format!("{destination}:{}", options.join(","));
    let spec = if options.is_empty() {
        destination.to_owned()
    } else {
        given
    };
    TmpfsMount::parse(&spec)
        .map_err(|e| unsupported(format!("mounts[{destination}].options"), e.to_string()))
}
