//! The host devices `--device` gives a container, made in its `/dev` after the default
//! nodes (see [`super::dev`]): `mknod` with the host node's type, numbers and mode; in a
//! user namespace, where `mknod` is refused, the host's node bound onto an empty file,
//! as the default nodes are. Their rules are in the spec's device allow-list.

use std::path::Path;

use super::{MountStep, Step, cstring};
use crate::cgroups::{DeviceKind, DeviceNode};
use crate::error::Result;

/// Appends the steps that make each of `nodes` below `root` (each one's path is below
/// `/dev`, checked when it was made), with any missing directory between.
pub fn make_nodes(
    steps: &mut Vec<Step>,
    nodes: &[DeviceNode],
    root: &Path,
    bind_from_host: bool,
) -> Result<()> {
    for node in nodes {
        let inside = node.container.strip_prefix("/").unwrap_or(&node.container);
        let path = root.join(inside);
        let mut dirs: Vec<&Path> = inside.ancestors().skip(1).collect();
        dirs.reverse();
        for dir in dirs
            .into_iter()
            .filter(|d| d.starts_with("dev") && *d != Path::new("dev"))
        {
            steps.push(Step::Mkdir(
                cstring("device directory", root.join(dir))?,
                0o755,
            ));
        }
        let target = cstring("device path", &path)?;
        if bind_from_host {
            steps.push(Step::CreateFile(target.clone()));
            steps.push(Step::Mount(MountStep {
                source: Some(cstring("device path", &node.host)?),
                target,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
            }));
            continue;
        }
        let kind = match node.kind {
            DeviceKind::Block => libc::S_IFBLK,
            DeviceKind::Char | DeviceKind::All => libc::S_IFCHR,
        };
        steps.push(Step::Mknod {
            path: target,
            mode: kind | node.mode,
            major: node.major,
            minor: node.minor,
        });
    }
    Ok(())
}
