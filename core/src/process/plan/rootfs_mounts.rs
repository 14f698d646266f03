//! The steps that build an image-based root and mount volumes: an overlay of the image
//! layers on the merged directory, then each volume bound onto it, all inside the
//! child's private mount namespace (so none of it shows in the host's mount table).

use std::path::{Path, PathBuf};

use super::cstring::cstring;
use super::in_root::{self, below_root};
use super::step::{MountPoint, MountSource};
use super::step::{MountStep, Step};
use crate::layers::{MAX_LOWER_LAYERS, OverlayArgs, OverlayRootfs};
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep};
use crate::process::spec::ContainerSpec;
use crate::rootfs::error::MountSpecError;
use crate::rootfs::mount_api::MOUNT_ATTR_RDONLY;
use crate::rootfs::tmpfs::TmpfsMount;
use crate::rootfs::volume::{self, Volume};

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
        return Err(ProcessError::Rootfs {
            path: root.to_owned(),
            reason: "more read-only layers than overlayfs can stack (500)",
        });
    }
    let mut args = OverlayArgs::new(overlay, root).map_err(|_| ProcessError::NulByte {
        what: "layer path",
        value: format!("{overlay:?}"),
    })?;
    if in_user_namespace {
        args.premount()
            .map_err(ProcessError::io(ProcessStep::PremountOverlay))?;
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
    for t in &spec.tmpfs {
        t.check_path().map_err(|reason| MountSpecError::Tmpfs {
            spec: t.path.display().to_string(),
            reason,
        })?;
    }
    Ok(())
}

// ANCHOR: volume_steps
/// For each volume: bind the host path (`open_tree`, recursive) onto its mount point,
/// resolved and created inside the container's root by the child; `:ro` makes the
/// detached copy read-only (`mount_setattr`) before it is attached, so it is never
/// writable in the container, not even for an instant.
fn volume_step(v: &Volume, root: &Path) -> Result<Step> {
    let host = v.host.canonicalize().map_err(|_| MountSpecError::Volume {
        spec: v.spec(),
        reason: "the host path vanished (create it again)".to_owned(),
    })?;
    Ok(Step::Mount(MountStep {
        source: MountSource::Bind(cstring("volume host path", &host)?),
        target: below_root(root, v.relative_target())?,
        create: if host.is_dir() {
            MountPoint::Dir(0o755)
        } else {
            MountPoint::File
        },
        attrs: v.attrs | if v.read_only { MOUNT_ATTR_RDONLY } else { 0 },
        keep: None,
    }))
}
// ANCHOR_END: volume_steps

/// A `--tmpfs` mount: a new tmpfs with its options, on a mount point made in the root.
fn tmpfs_step(t: &TmpfsMount, root: &Path) -> Result<Step> {
    let options = t
        .options
        .iter()
        .map(|(key, value)| in_root::value(key, value))
        .collect::<Result<_>>()?;
    Ok(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"tmpfs".to_owned(),
            options,
        },
        target: below_root(root, &t.path)?,
        create: MountPoint::Dir(0o755),
        attrs: t.attrs,
        keep: None,
    }))
}

/// Volumes and `--tmpfs` mounts, shallowest first (as docker sorts them), so that a
/// volume at `/run/x` lands inside a tmpfs at `/run` rather than under it.
pub(super) fn mount_volumes_and_tmpfs(
    steps: &mut Vec<Step>,
    spec: &ContainerSpec,
    root: &Path,
) -> Result<()> {
    let mut mounts = Vec::new();
    for t in &spec.tmpfs {
        mounts.push((t.path.components().count(), tmpfs_step(t, root)?));
    }
    for v in &spec.volumes {
        mounts.push((v.container.components().count(), volume_step(v, root)?));
    }
    mounts.sort_by_key(|(depth, _)| *depth);
    steps.extend(mounts.into_iter().map(|(_, step)| step));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::layers::OverlayRootfs;
    use crate::process::plan::{Plan, Step};
    use crate::process::spec::ContainerSpec;
    use crate::rootfs::volume::Volume;

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
                attrs: 0,
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
        let read_only = plan.steps.iter().any(|s| {
            matches!(s, Step::Mount(m) if m.target.shown.to_bytes().ends_with(b"/data/in")
                && m.attrs & crate::rootfs::mount_api::MOUNT_ATTR_RDONLY != 0)
        });
        assert!(
            read_only,
            "a read-only volume must be mounted read-only: {order:#?}"
        );
    }
}
