//! An OCI bundle's devices: `linux.resources.devices` (the device cgroup's rules, in
//! order) and `linux.devices` (nodes to make), read into vessel's own types.
//!
//! The rules are read as runc reads them: from "deny everything", each rule in turn,
//! then runc's always-allowed defaults (docker's list) appended. vessel keeps an
//! allow-list over deny-all, so a `deny` is honoured when it denies everything (the
//! usual first rule) or nothing that an earlier rule allowed (docker's `deny c 10:229`);
//! a deny that would cut into an earlier allow is refused by name rather than ignored.

use std::path::Path;

use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};

use super::rule::{MAX_MAJOR, MAX_MINOR};
use super::{Access, DeviceKind, DeviceNode, DeviceRule, DeviceRules};

/// A field of the bundle vessel cannot honour, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciDeviceError {
    /// The field, e.g. `linux.resources.devices[2]`.
    pub field: String,
    /// What is wrong and what to do.
    pub why: &'static str,
}

fn refuse(field: String, why: &'static str) -> OciDeviceError {
    OciDeviceError { field, why }
}

/// The nodes vessel makes in every container's `/dev` itself; a bundle listing them
/// (as runc's `spec` does for none, and some tools do for all) gets vessel's.
const ALWAYS_MADE: [&str; 8] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/console",
];

// ANCHOR: rules_from_oci
/// `linux.resources.devices`, then runc's defaults.
pub fn rules(given: &[LinuxDeviceCgroup]) -> Result<DeviceRules, OciDeviceError> {
    let mut allowed: Vec<DeviceRule> = Vec::new();
    for (i, given) in given.iter().enumerate() {
        let field = || format!("linux.resources.devices[{i}]");
        let rule = rule(given).map_err(|why| refuse(field(), why))?;
        let everything = rule.kind == DeviceKind::All
            && rule.major.is_none()
            && rule.minor.is_none()
            && rule.access == Access::ALL;
        if given.allow() {
            allowed.push(rule);
        } else if everything {
            allowed.clear();
        } else if allowed.iter().any(|earlier| overlaps(earlier, &rule)) {
            return Err(refuse(
                field(),
                "denies part of what an earlier rule allows; vessel keeps an allow-list \
                 over deny-all (deny all first, then allow only what is needed)",
            ));
        }
    }
    let mut rules = DeviceRules::deny_all();
    for rule in allowed
        .into_iter()
        .chain(DeviceRules::docker_default().allowed().iter().copied())
    {
        rules = rules.allow(rule);
    }
    Ok(rules)
}
// ANCHOR_END: rules_from_oci

fn rule(given: &LinuxDeviceCgroup) -> Result<DeviceRule, &'static str> {
    let kind = match given.typ() {
        None | Some(LinuxDeviceType::A) => DeviceKind::All,
        Some(LinuxDeviceType::B) => DeviceKind::Block,
        Some(LinuxDeviceType::C | LinuxDeviceType::U) => DeviceKind::Char,
        Some(LinuxDeviceType::P) => {
            return Err("a FIFO is not a device the cgroup knows (use a, b or c)");
        }
    };
    let number = |n: Option<i64>, max: u32| match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None), // runc reads -1 as "any"
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .map(Some)
            .ok_or("a major is at most 4095 and a minor at most 1048575"),
    };
    let access = match given.access().as_deref() {
        None | Some("") => Access::ALL,
        Some(text) => Access::parse(text).map_err(|_| "access must be made of r, w and m")?,
    };
    Ok(DeviceRule {
        kind,
        major: number(given.major(), MAX_MAJOR)?,
        minor: number(given.minor(), MAX_MINOR)?,
        access,
    })
}

/// Whether some device and access could match both rules.
fn overlaps(a: &DeviceRule, b: &DeviceRule) -> bool {
    let kinds = a.kind == DeviceKind::All || b.kind == DeviceKind::All || a.kind == b.kind;
    let numbers = |x: Option<u32>, y: Option<u32>| x.is_none() || y.is_none() || x == y;
    kinds
        && numbers(a.major, b.major)
        && numbers(a.minor, b.minor)
        && a.access.bits() & b.access.bits() != 0
}

/// `linux.devices`: the nodes to make, below `/dev`, owned by root (the ones vessel
/// always makes are left to it).
pub fn nodes(given: &[LinuxDevice]) -> Result<Vec<DeviceNode>, OciDeviceError> {
    let mut nodes = Vec::new();
    for (i, device) in given.iter().enumerate() {
        let field = || format!("linux.devices[{i}]");
        let path = device.path();
        if ALWAYS_MADE.iter().any(|made| path == Path::new(made)) {
            continue;
        }
        let kind = match device.typ() {
            LinuxDeviceType::B => DeviceKind::Block,
            LinuxDeviceType::C | LinuxDeviceType::U => DeviceKind::Char,
            LinuxDeviceType::A | LinuxDeviceType::P => {
                return Err(refuse(
                    field(),
                    "vessel makes only character (c, u) and block (b) nodes",
                ));
            }
        };
        if device.uid().is_some_and(|u| u != 0) || device.gid().is_some_and(|g| g != 0) {
            return Err(refuse(
                field(),
                "vessel makes device nodes owned by root; drop uid and gid",
            ));
        }
        let below_dev = path.starts_with("/dev")
            && path != Path::new("/dev")
            && path.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
        let (Ok(major), Ok(minor)) = (u32::try_from(device.major()), u32::try_from(device.minor()))
        else {
            return Err(refuse(
                field(),
                "major and minor must be device numbers (0 or more)",
            ));
        };
        if !below_dev || major > MAX_MAJOR || minor > MAX_MINOR {
            return Err(refuse(
                field(),
                "vessel makes device nodes only below /dev, with numbers up to 4095:1048575",
            ));
        }
        nodes.push(DeviceNode {
            // In a user namespace the host's node of the same path is bound, as runc does.
            host: path.clone(),
            container: path.clone(),
            kind,
            major,
            minor,
            mode: device.file_mode().unwrap_or(0o666) & 0o777,
            access: Access::ALL,
        });
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cgroup_rules(json: &str) -> Result<DeviceRules, OciDeviceError> {
        let given: Vec<LinuxDeviceCgroup> = serde_json::from_str(json).unwrap();
        rules(&given)
    }

    #[test]
    fn docker_s_bundle_rules_become_the_allow_list_plus_runc_s_defaults() {
        let rules = cgroup_rules(
            r#"[{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
                {"allow": false, "type": "c", "major": 10, "minor": 232, "access": "rwm"}]"#,
        )
        .unwrap();
        let (c, rw) = (DeviceKind::Char, Access::parse("rw").unwrap());
        assert!(rules.permits(c, 10, 229, rw));
        assert!(!rules.permits(c, 10, 232, Access::READ));
        assert!(rules.permits(c, 1, 3, rw), "runc's defaults are appended");
        assert_eq!(rules.v1_lines()[0], "c 10:229 rw");
    }

    #[test]
    fn allow_all_and_a_deny_all_later_reset_the_list() {
        let all = cgroup_rules(r#"[{"allow": true, "access": "rwm"}]"#).unwrap();
        assert!(all.permits(DeviceKind::Block, 8, 0, Access::WRITE));
        let reset =
            cgroup_rules(r#"[{"allow": true, "access": "rwm"}, {"allow": false, "type": "a"}]"#)
                .unwrap();
        assert!(!reset.permits(DeviceKind::Block, 8, 0, Access::WRITE));
    }

    #[test]
    fn a_deny_inside_an_allow_and_a_fifo_are_refused_by_name() {
        let cut = cgroup_rules(
            r#"[{"allow": true, "type": "c", "major": 10, "access": "rwm"},
                {"allow": false, "type": "c", "major": 10, "minor": 232, "access": "r"}]"#,
        )
        .unwrap_err();
        assert_eq!(cut.field, "linux.resources.devices[1]");
        let fifo = cgroup_rules(r#"[{"allow": true, "type": "p"}]"#).unwrap_err();
        assert!(fifo.why.contains("FIFO"));
        let big = cgroup_rules(r#"[{"allow": true, "type": "c", "major": 99999}]"#).unwrap_err();
        assert!(big.why.contains("at most 4095"));
    }

    #[test]
    fn nodes_are_made_below_dev_and_the_standard_ones_left_to_vessel() {
        let given: Vec<LinuxDevice> = serde_json::from_str(
            r#"[{"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
                {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 8630},
                {"path": "/dev/loop0", "type": "b", "major": 7, "minor": 0}]"#,
        )
        .unwrap();
        let made = nodes(&given).unwrap();
        let summary: Vec<_> = made
            .iter()
            .map(|n| {
                (
                    n.container.display().to_string(),
                    n.kind,
                    n.major,
                    n.minor,
                    n.mode,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("/dev/fuse".to_owned(), DeviceKind::Char, 10, 229, 0o666),
                ("/dev/loop0".to_owned(), DeviceKind::Block, 7, 0, 0o666),
            ]
        );
        let outside: Vec<LinuxDevice> =
            serde_json::from_str(r#"[{"path": "/etc/x", "type": "c", "major": 1, "minor": 3}]"#)
                .unwrap();
        assert_eq!(nodes(&outside).unwrap_err().field, "linux.devices[0]");
        let owned: Vec<LinuxDevice> = serde_json::from_str(
            r#"[{"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "uid": 1000}]"#,
        )
        .unwrap();
        assert!(nodes(&owned).unwrap_err().why.contains("owned by root"));
    }
}
