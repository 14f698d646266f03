//! The host devices `--device` gives a container, made in its `/dev` after the default
//! nodes (see [`super::dev`]): `mknod` with the host node's type, numbers and mode; in a
//! user namespace, where `mknod` is refused, the host's node bound onto an empty file,
//! as the default nodes are. Their rules are in the spec's device allow-list.

use std::path::Path;

use super::cstring::cstring;
use super::in_root::below_root;
use super::step::{MountPoint, MountSource};
use super::step::{MountStep, Step};
use crate::cgroups::{DeviceKind, DeviceNode};
use crate::process::error::Result;

/// Appends the steps that make each of `nodes` below `root` (each one's path is below
/// `/dev`, checked when it was made), with any missing directory between.
pub fn make_nodes(
    steps: &mut Vec<Step>,
    nodes: &[DeviceNode],
    root: &Path,
    bind_from_host: bool,
) -> Result<()> {
    for node in nodes {
        // Resolved inside the root by the child, like every other mount point.
        let inside = node.container.strip_prefix("/").unwrap_or(&node.container);
        if bind_from_host {
            steps.push(Step::Mount(MountStep {
                source: MountSource::Bind(cstring("device path", &node.host)?),
                target: below_root(root, inside)?,
                create: MountPoint::File,
                attrs: 0,
                keep: None,
            }));
            continue;
        }
        let kind = match node.kind {
            DeviceKind::Block => libc::S_IFBLK,
            DeviceKind::Char | DeviceKind::All => libc::S_IFCHR,
        };
        let name = inside.file_name().unwrap_or_default();
        steps.push(Step::Mknod {
            parent: below_root(root, inside.parent().unwrap_or(Path::new("")))?,
            name: cstring("device path", name)?,
            shown: cstring("device path", root.join(inside))?,
            mode: kind | node.mode,
            major: node.major,
            minor: node.minor,
        });
    }
    Ok(())
}
