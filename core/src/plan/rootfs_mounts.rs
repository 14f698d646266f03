//! The steps that build an image-based root and mount volumes: an overlay of the image
//! layers on the merged directory, then each volume bound onto it, all inside the
//! child's private mount namespace (so none of it shows in the host's mount table).

use std::path::{Path, PathBuf};

use super::{MountStep, Step, cstring};
use crate::error::{Error, Result};
use crate::layers::{MAX_LOWER_LAYERS, OverlayArgs, OverlayRootfs};
use crate::spec::ContainerSpec;
use crate::volume::{self, Volume};

/// The overlay mount on `root`, the merged directory. With `in_user_namespace` the
/// parent makes the overlay now, detached, and the child only attaches it (see
/// [`OverlayArgs::premount`]): its root could not mount the layers itself.
pub(super) fn mount_overlay(
    steps: &mut Vec<Step>,
    overlay: &OverlayRootfs,
    root: &Path,
    in_user_namespace: bool,
) -> Result<()> {
    if overlay.lowers.len() > MAX_LOWER_LAYERS {
        return Err(Error::Rootfs {
            path: root.to_owned(),
            reason: "more read-only layers than overlayfs can stack (500)",
        });
    }
    let mut args = OverlayArgs::new(overlay, root).map_err(|_| Error::NulByte {
        what: "layer path",
        value: format!("{overlay:?}"),
    })?;
    if in_user_namespace {
        args.premount().map_err(|source| Error::Sys {
            call: "mount the container's overlay for its user namespace (fsopen/fsmount)",
            source,
        })?;
    }
    steps.push(Step::MountOverlay(args));
    Ok(())
}

/// Checks every volume against the host and the container's starting filesystem.
pub(super) fn validate_volumes(spec: &ContainerSpec) -> Result<()> {
    let layers: Vec<PathBuf> = match &spec.overlay {
        Some(overlay) => std::iter::once(overlay.upper.clone())
            .chain(overlay.lowers.iter().cloned())
            .collect(),
        None => vec![spec.rootfs.clone()],
    };
    volume::check_distinct_targets(&spec.volumes)?;
    for v in &spec.volumes {
        v.check()?;
        volume::check_mount_point(v, &layers, v.host.is_dir())?;
    }
    Ok(())
}

// ANCHOR: volume_steps
/// For each volume: make the mount point, bind the host path onto it, and for `:ro`
/// remount the bind read-only (a bind mount ignores `MS_RDONLY` on its first call).
pub(super) fn mount_volumes(steps: &mut Vec<Step>, volumes: &[Volume], root: &Path) -> Result<()> {
    for v in volumes {
        let host = v.host.canonicalize().map_err(|_| Error::Volume {
            spec: v.spec(),
            reason: "the host path vanished (create it again)".to_owned(),
        })?;
        let rel = v.relative_target();
        let mut dir = root.to_owned();
        for parent in rel.parent().into_iter().flat_map(Path::components) {
            dir.push(parent);
            steps.push(Step::Mkdir(cstring("volume mount point", &dir)?, 0o755));
        }
        let target = cstring("volume mount point", root.join(&rel))?;
        steps.push(if host.is_dir() {
            Step::Mkdir(target.clone(), 0o755)
        } else {
            Step::CreateFile(target.clone())
        });
        steps.push(Step::Mount(MountStep {
            source: Some(cstring("volume host path", &host)?),
            target: target.clone(),
            fstype: None,
            flags: libc::MS_BIND | libc::MS_REC,
            data: None,
        }));
        if v.read_only {
            steps.push(Step::Mount(MountStep {
                source: None,
                target,
                fstype: None,
                flags: libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                data: None,
            }));
        }
    }
    Ok(())
}
// ANCHOR_END: volume_steps

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::layers::OverlayRootfs;
    use crate::plan::{Plan, Step};
    use crate::spec::ContainerSpec;
    use crate::volume::Volume;

    #[test]
    fn the_overlay_comes_first_and_volumes_just_before_pivot_root() {
        let dir = tempfile::tempdir().unwrap();
        let sub = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir(&p).unwrap();
            p
        };
        let (lower, upper, work, merged, host) = (
            sub("lower"),
            sub("upper"),
            sub("work"),
            sub("merged"),
            sub("host"),
        );
        let spec = ContainerSpec::new(&merged, ["sh"])
            .overlay(OverlayRootfs {
                lowers: vec![lower],
                upper,
                work,
            })
            .volume(Volume {
                host,
                container: PathBuf::from("/data/in"),
                read_only: true,
            });
        let plan = Plan::for_spec(&spec).unwrap();
        let order: Vec<String> = plan.steps.iter().map(Step::describe).collect();
        let at = |needle: &str| {
            order
                .iter()
                .position(|s| s.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing from {order:#?}"))
        };
        assert!(at("make / private") < at("mount overlay of 1 read-only layers"));
        assert!(at("mount overlay") < at("mount proc"));
        assert!(at("mount sysfs") < at("/data/in"));
        assert!(at("/data/in") < at("pivot_root"));
        assert!(
            !plan
                .steps
                .iter()
                .any(|s| matches!(s, Step::BindRootOntoItself(_)))
        );
        let remount = plan.steps.iter().any(|s| {
            matches!(s, Step::Mount(m) if m.flags == libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY)
        });
        assert!(remount, "a read-only volume needs its remount: {order:#?}");
    }
}
