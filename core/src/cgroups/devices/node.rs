//! A host device given to a container (`--device /dev/fuse`): the node to create in the
//! container's `/dev`, and the rule that lets the container use it.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use super::{Access, DeviceKind, DeviceRule};

/// One device node the container gets, copied from the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// The host's node (bound instead of made, in a user namespace).
    pub host: PathBuf,
    /// Where it appears in the container: below `/dev`.
    pub container: PathBuf,
    /// Character or block.
    pub kind: DeviceKind,
    /// Its numbers.
    pub major: u32,
    /// Its numbers.
    pub minor: u32,
    /// The host node's permission bits, which the new node gets too.
    pub mode: u32,
    /// How the container may use it.
    pub access: Access,
}

impl DeviceNode {
    /// Reads `host`'s type and numbers; the node will appear at `container` (an
    /// absolute path below `/dev`) with `access`. The error is the reason, for the
    /// caller to put next to the option.
    pub fn from_host(host: &Path, container: &Path, access: Access) -> Result<DeviceNode, String> {
        let meta = std::fs::metadata(host).map_err(|e| format!("{}: {e}", host.display()))?;
        let kind = if meta.file_type().is_char_device() {
            DeviceKind::Char
        } else if meta.file_type().is_block_device() {
            DeviceKind::Block
        } else {
            return Err(format!(
                "{} is not a character or block device (give a node such as /dev/fuse)",
                host.display()
            ));
        };
        let below_dev = container.starts_with("/dev")
            && container != Path::new("/dev")
            && container
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if !below_dev {
            return Err(format!(
                "container path {} must be a path below /dev without '.' or '..' \
                 (vessel makes device nodes only in the container's own /dev)",
                container.display()
            ));
        }
        let dev = meta.rdev();
        Ok(DeviceNode {
            host: host.to_owned(),
            container: container.to_owned(),
            kind,
            major: libc::major(dev),
            minor: libc::minor(dev),
            mode: meta.mode() & 0o777,
            access,
        })
    }

    /// The rule that lets the container use this node as asked.
    pub fn rule(&self) -> DeviceRule {
        DeviceRule::device(self.kind, self.major, self.minor, self.access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_device_becomes_a_node_and_its_rule() {
        let rw = Access::parse("rw").unwrap();
        let null =
            DeviceNode::from_host(Path::new("/dev/null"), Path::new("/dev/x/null"), rw).unwrap();
        assert_eq!(
            (null.kind, null.major, null.minor),
            (DeviceKind::Char, 1, 3)
        );
        assert_eq!(null.rule().to_string(), "c 1:3 rw");
    }

    #[test]
    fn what_is_not_a_device_below_dev_is_refused_with_the_reason() {
        let rwm = Access::ALL;
        let dev = Path::new("/dev/x");
        let not = DeviceNode::from_host(Path::new("/etc/hostname"), dev, rwm).unwrap_err();
        assert!(not.contains("is not a character or block device"), "{not}");
        let missing = DeviceNode::from_host(Path::new("/dev/nope"), dev, rwm).unwrap_err();
        assert!(missing.contains("No such file"), "{missing}");
        for outside in ["/etc/null", "/dev/../etc/null", "/dev", "dev/null"] {
            let error =
                DeviceNode::from_host(Path::new("/dev/null"), Path::new(outside), rwm).unwrap_err();
            assert!(error.contains("below /dev"), "{outside}: {error}");
        }
    }
}
