//! Volumes: host directories (or files) bind-mounted into a container.
//!
//! `-v HOST:CTR[:ro]` becomes a bind mount made by the child inside its own mount
//! namespace, after the overlay root is mounted and before `pivot_root`: the container
//! sees it, the host's mount table never does, and it vanishes with the namespace.
//! Writes go straight to the host directory, past every layer, so `vessel commit` never
//! packs them. The bind is a detached copy (`open_tree`), made read-only for `:ro` with
//! `mount_setattr` before `move_mount` attaches it onto the mount point, which the child
//! resolves inside the root (see [`crate::process::child::mounts`]).

use std::path::{Component, Path, PathBuf};

use super::error::MountSpecError;
use crate::security::InRoot;

/// One `-v HOST:CTR[:ro]` volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Absolute path on the host (a directory or a file).
    pub host: PathBuf,
    /// Absolute path inside the container.
    pub container: PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
    /// More `MOUNT_ATTR_*` flags for the bind (an OCI bundle's `nosuid`, `nodev`,
    /// `noexec`); `-v` gives none.
    pub attrs: u64,
}

impl Volume {
    /// Parses `HOST:CTR`, `HOST:CTR:ro` or `HOST:CTR:rw`, and checks it (see [`Volume::check`]).
    pub fn parse(spec: &str) -> Result<Volume, MountSpecError> {
        let bad = |reason: String| MountSpecError::Volume {
            spec: spec.to_owned(),
            reason,
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (host, container, read_only) = match parts.as_slice() {
            [host, container] => (host, container, false),
            [host, container, "ro"] => (host, container, true),
            [host, container, "rw"] => (host, container, false),
            [_, _, option] => {
                return Err(bad(format!(
                    "unknown option {option:?} (use ro or rw, e.g. /srv/data:/data:ro)"
                )));
            }
            _ => {
                return Err(bad(
                    "expected HOST:CTR or HOST:CTR:ro (e.g. /srv/data:/data:ro)".to_owned(),
                ));
            }
        };
        let volume = Volume {
            host: PathBuf::from(host),
            container: PathBuf::from(container),
            read_only,
            attrs: 0,
        };
        volume.check()?;
        Ok(volume)
    }

    /// How the volume reads on the command line.
    pub fn spec(&self) -> String {
        let ro = if self.read_only { ":ro" } else { "" };
        format!("{}:{}{ro}", self.host.display(), self.container.display())
    }

    /// Checks both paths: the host path absolute and existing, the container path
    /// absolute, not `/` and without `..`.
    pub fn check(&self) -> Result<(), MountSpecError> {
        let bad = |reason: String| MountSpecError::Volume {
            spec: self.spec(),
            reason,
        };
        let host = self.host.display();
        if !self.host.is_absolute() {
            return Err(bad(format!(
                "host path {host:?} is relative (give an absolute path, e.g. \"$PWD/{host}\")"
            )));
        }
        if !self.host.exists() {
            return Err(bad(format!(
                "host path {host:?} does not exist (create it first)"
            )));
        }
        let ctr = self.container.display();
        if !self.container.is_absolute() {
            return Err(bad(format!(
                "container path {ctr:?} is not absolute (e.g. /data)"
            )));
        }
        if self
            .container
            .components()
            .any(|c| c == Component::ParentDir)
        {
            return Err(bad(format!(
                "container path {ctr:?} contains \"..\" (name the directory directly)"
            )));
        }
        if self.relative_target().as_os_str().is_empty() {
            return Err(bad(
                "the container path cannot be / (mount the volume on a directory such as /data)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// The container path relative to the container's root.
    pub fn relative_target(&self) -> PathBuf {
        self.container
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect()
    }
}

/// Refuses two volumes on the same container path (`-v /a:/data -v /b:/data`), as docker
/// does ("Duplicate mount point"): the second bind would hide the first, so one of the two
/// asks would be silently dropped. Paths are compared as mounted (`/data/` is `/data`).
pub(crate) fn check_distinct_targets(volumes: &[Volume]) -> Result<(), MountSpecError> {
    let mut seen: std::collections::HashMap<PathBuf, &Volume> = std::collections::HashMap::new();
    for volume in volumes {
        if let Some(first) = seen.insert(volume.relative_target(), volume) {
            return Err(MountSpecError::Volume {
                spec: volume.spec(),
                reason: format!(
                    "duplicate mount point {}: volume {:?} is mounted there already (give each \
                     volume its own container path)",
                    Path::new("/").join(volume.relative_target()).display(),
                    first.spec()
                ),
            });
        }
    }
    Ok(())
}

/// Checks that the mount point `rel` can be made in the tree formed by `layers` (top-most
/// first; one plain directory for `--rootfs`) without passing through a symlink. Each
/// layer is looked into with [`InRoot`], so a symlink in a lower layer is never followed
/// out to the host while checking (the child resolves the mount point inside the root
/// again anyway, since the tree may change before it runs).
pub(crate) fn check_mount_point(
    volume: &Volume,
    layers: &[PathBuf],
    host_is_dir: bool,
) -> Result<(), MountSpecError> {
    use crate::layers::whiteout;
    let bad = |reason: String| MountSpecError::Volume {
        spec: volume.spec(),
        reason,
    };
    let roots: Vec<Option<InRoot>> = layers.iter().map(|l| InRoot::open(l).ok()).collect();
    let rel = volume.relative_target();
    let count = rel.components().count();
    let mut limit = layers.len();
    let mut prefix = PathBuf::new();
    for (index, component) in rel.components().enumerate() {
        prefix.push(component);
        let last = index + 1 == count;
        let shown = Path::new("/").join(&prefix);
        let found = roots[..limit].iter().enumerate().find_map(|(i, root)| {
            let root = root.as_ref()?;
            root.symlink_metadata(&prefix).ok().map(|m| (i, root, m))
        });
        let Some((i, root, meta)) = found else {
            return Ok(()); // the rest is created by the child
        };
        if whiteout::is_overlay_whiteout(&meta) {
            return Ok(());
        }
        if meta.file_type().is_symlink() {
            return Err(bad(format!(
                "{shown:?} is a symlink in the container's filesystem (mount the volume on the path it points to)"
            )));
        }
        if meta.is_dir() {
            if last && !host_is_dir {
                return Err(bad(format!(
                    "{shown:?} is a directory in the container but the host path is a file"
                )));
            }
            if is_opaque_in(root, &prefix) {
                limit = i + 1;
            }
        } else if !last {
            return Err(bad(format!(
                "{shown:?} is a file in the container, not a directory"
            )));
        } else if host_is_dir {
            return Err(bad(format!(
                "{shown:?} is a file in the container but the host path is a directory"
            )));
        }
    }
    Ok(())
}

/// Whether the directory `rel` of a layer is opaque, read from a descriptor opened
/// inside the layer.
fn is_opaque_in(root: &InRoot, rel: &Path) -> bool {
    use nix::fcntl::OFlag;
    use xattr::FileExt;
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
    root.open_with(rel, flags, 0)
        .map(std::fs::File::from)
        .and_then(|dir| dir.get_xattr(crate::layers::whiteout::OPAQUE_XATTR))
        .is_ok_and(|value| value.as_deref() == Some(b"y"))
}

#[cfg(test)]
mod tests {
    use super::Volume;

    #[test]
    fn good_specs_parse_and_bad_ones_say_why() {
        let v = Volume::parse("/tmp:/data:ro").unwrap();
        assert!(v.read_only);
        assert_eq!(v.relative_target(), std::path::Path::new("data"));
        assert!(!Volume::parse("/tmp:/data").unwrap().read_only);
        let message = |spec: &str| Volume::parse(spec).unwrap_err().to_string();
        assert!(
            message("tmp:/data").contains("is relative"),
            "{}",
            message("tmp:/data")
        );
        assert!(message("/no/such/dir:/data").contains("does not exist"));
        assert!(message("/tmp:/data:rx").contains("unknown option \"rx\""));
        assert!(message("/tmp:data").contains("not absolute"));
        assert!(message("/tmp:/").contains("cannot be /"));
        assert!(message("/tmp:/a/../b").contains(".."));
        assert!(message("/tmp").contains("expected HOST:CTR"));
    }

    #[test]
    fn two_volumes_on_one_container_path_are_refused_naming_both() {
        let v = |spec: &str| Volume::parse(spec).unwrap();
        assert!(super::check_distinct_targets(&[v("/tmp:/data"), v("/etc:/data/sub")]).is_ok());
        let error = super::check_distinct_targets(&[v("/tmp:/data"), v("/etc:/data/:ro")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "volume \"/etc:/data/:ro\": duplicate mount point /data: volume \"/tmp:/data\" is \
             mounted there already (give each volume its own container path)"
        );
    }
}
