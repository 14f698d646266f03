//! `vessel run --device HOST[:CONTAINER][:PERMS]`, docker's syntax: give the container
//! one host device (the node in its `/dev`, and a rule in its device cgroup).

use std::path::Path;

use clap::Args;

use crate::cgroups::{Access, DeviceNode, ResourceError};
use crate::process::spec::ContainerSpec;

/// The device options of `vessel run`.
#[derive(Debug, Clone, Default, Args)]
pub struct DeviceArgs {
    /// Give the container a host device (repeatable): HOST[:CONTAINER][:PERMS], e.g.
    /// /dev/fuse or /dev/loop0:/dev/xvda:r. PERMS is any of r (read), w (write),
    /// m (mknod) [default: rwm]; CONTAINER must be below /dev [default: HOST].
    #[arg(long = "device", value_name = "HOST[:CTR][:PERMS]")]
    pub devices: Vec<String>,
}

impl DeviceArgs {
    /// Each `--device`, read from the host and checked, before anything is created.
    pub fn nodes(&self) -> Result<Vec<DeviceNode>, ResourceError> {
        self.devices.iter().map(|text| parse(text)).collect()
    }

    /// `spec` with the devices added (their nodes, and their rules unless privileged).
    pub fn apply(&self, spec: ContainerSpec) -> Result<ContainerSpec, ResourceError> {
        Ok(self.nodes()?.into_iter().fold(spec, ContainerSpec::device))
    }
}

// ANCHOR: parse_device
/// `HOST`, `HOST:CONTAINER`, `HOST:PERMS` or `HOST:CONTAINER:PERMS`, as docker reads
/// them: a middle part made only of r, w and m is the permissions.
fn parse(text: &str) -> Result<DeviceNode, ResourceError> {
    let fail = |reason: String| ResourceError::new("--device", text, reason);
    let parts: Vec<&str> = text.split(':').collect();
    let looks_like_perms = |p: &str| !p.is_empty() && p.chars().all(|c| "rwm".contains(c));
    let (host, container, perms) = match parts.as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, perms] if looks_like_perms(perms) => (*host, *host, *perms),
        [host, container] => (*host, *container, "rwm"),
        [host, container, perms] => (*host, *container, *perms),
        _ => {
            return Err(fail(
                "expected HOST[:CONTAINER][:PERMS], e.g. /dev/fuse:/dev/fuse:rwm".into(),
            ));
        }
    };
    let access = Access::parse(perms).map_err(|e| fail(e.to_string()))?;
    if host.is_empty() || !host.starts_with('/') {
        return Err(fail(
            "the host device must be an absolute path such as /dev/fuse".into(),
        ));
    }
    DeviceNode::from_host(Path::new(host), Path::new(container), access).map_err(fail)
}
// ANCHOR_END: parse_device

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> DeviceNode {
        parse(text).unwrap()
    }

    #[test]
    fn docker_s_forms_are_read_as_docker_reads_them() {
        let null = node("/dev/null");
        assert_eq!(null.container, Path::new("/dev/null"));
        assert_eq!(null.access, Access::ALL);
        let read_only = node("/dev/null:r");
        assert_eq!(read_only.container, Path::new("/dev/null"));
        assert_eq!(read_only.rule().to_string(), "c 1:3 r");
        let moved = node("/dev/null:/dev/other");
        assert_eq!(
            (moved.container.as_path(), moved.access),
            (Path::new("/dev/other"), Access::ALL)
        );
        let both = node("/dev/null:/dev/x/y:rw");
        assert_eq!(both.rule().to_string(), "c 1:3 rw");
    }

    #[test]
    fn bad_values_name_the_option_and_the_fix() {
        let error = |text: &str| parse(text).unwrap_err().to_string();
        assert!(error("/dev/null:/dev/x:rwx").starts_with("--device /dev/null:/dev/x:rwx: access"));
        assert!(error("/nonexistent").contains("No such file"));
        assert!(error("/etc/hostname").contains("not a character or block device"));
        assert!(error("/dev/null:/etc/null").contains("below /dev"));
        assert!(error("dev/null").contains("absolute path"));
        assert!(error("a:b:c:d").contains("expected HOST[:CONTAINER][:PERMS]"));
    }
}
