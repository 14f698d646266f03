//! The device cgroup: which device nodes a container may create (`mknod`) and open.
//!
//! `CAP_MKNOD` (in docker's default set) lets container root make a node for any
//! major:minor, and a node is a door to the host's driver: `mknod /tmp/kvm c 10 232`
//! opens the host's KVM. The device cgroup closes the door at `open`: the kernel asks it
//! on every `mknod` and every open of a device node. vessel gives each container docker's
//! allow-list ([`DeviceRules::docker_default`]): everything denied, then `mknod` of any
//! node allowed (opening it is not), and `rwm` on the harmless few a process expects
//! (`/dev/null`, `/dev/zero`, ptys, …). `--device` adds one rule; `--privileged` none.
//!
//! v1 writes the rules as text (`devices.deny` `a`, then `devices.allow` `c 1:3 rwm`);
//! v2 has no such files: the rules become a small BPF program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE` attached to the container's cgroup
//! ([`bpf_program`], [`bpf_attach`]).

pub mod bpf_attach;
pub mod bpf_program;
pub mod from_oci;
mod node;
mod rule;

pub use node::DeviceNode;
pub use rule::{Access, DeviceKind, DeviceRule, DeviceRuleError};

/// An allow-list of device rules on top of "deny everything": a device may be used in
/// a way (`r`, `w`, `m`) if some rule allows that way for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceRules {
    allowed: Vec<DeviceRule>,
}

// ANCHOR: docker_default
/// docker's default rules, as runc applies them (`AllowedDevices` in runc's
/// `libcontainer/specconv/spec_linux.go` after moby's default spec): `mknod` of any
/// character or block device (so image tools that make nodes still work; opening them is
/// refused), and read, write and mknod of the devices every process expects.
const DOCKER_DEFAULT: [(DeviceKind, Option<u32>, Option<u32>, &str); 12] = [
    (DeviceKind::Char, None, None, "m"),
    (DeviceKind::Block, None, None, "m"),
    (DeviceKind::Char, Some(1), Some(3), "rwm"), // /dev/null
    (DeviceKind::Char, Some(1), Some(5), "rwm"), // /dev/zero
    (DeviceKind::Char, Some(1), Some(7), "rwm"), // /dev/full
    (DeviceKind::Char, Some(1), Some(8), "rwm"), // /dev/random
    (DeviceKind::Char, Some(1), Some(9), "rwm"), // /dev/urandom
    (DeviceKind::Char, Some(5), Some(0), "rwm"), // /dev/tty
    (DeviceKind::Char, Some(5), Some(1), "rwm"), // /dev/console
    (DeviceKind::Char, Some(5), Some(2), "rwm"), // /dev/ptmx
    (DeviceKind::Char, Some(136), None, "rwm"),  // /dev/pts/*
    (DeviceKind::Char, Some(10), Some(200), "rwm"), // /dev/net/tun
];
// ANCHOR_END: docker_default

impl DeviceRules {
    /// No device at all (not even `/dev/null`): the start of an OCI bundle's list.
    pub fn deny_all() -> DeviceRules {
        DeviceRules::default()
    }

    /// docker's default allow-list (see the module's documentation).
    pub fn docker_default() -> DeviceRules {
        let allowed = DOCKER_DEFAULT
            .iter()
            .map(|&(kind, major, minor, access)| DeviceRule {
                kind,
                major,
                minor,
                access: Access::parse(access).expect("the default access letters are valid"),
            })
            .collect();
        DeviceRules { allowed }
    }

    /// These rules and `extra` (`--device`).
    #[must_use]
    pub fn allow(mut self, extra: DeviceRule) -> DeviceRules {
        self.allowed.push(extra);
        self
    }

    /// The allow rules, in order.
    pub fn allowed(&self) -> &[DeviceRule] {
        &self.allowed
    }

    /// Whether `kind major:minor` may be used for every way in `access`: some single rule
    /// must allow all of them (as the v1 controller and the BPF program decide).
    pub fn permits(&self, kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
        self.allowed
            .iter()
            .any(|rule| rule.matches(kind, major, minor) && rule.access.contains(access))
    }

    /// The lines the v1 controller is given: `a` to `devices.deny`, then each rule to
    /// `devices.allow` (`c 1:3 rwm`).
    pub fn v1_lines(&self) -> Vec<String> {
        self.allowed.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_default_allows_mknod_everywhere_and_open_only_on_the_harmless_few() {
        let rules = DeviceRules::docker_default();
        let (c, b) = (DeviceKind::Char, DeviceKind::Block);
        let rw = Access::parse("rw").unwrap();
        let m = Access::parse("m").unwrap();
        for (major, minor) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 1),
            (5, 2),
        ] {
            assert!(rules.permits(c, major, minor, rw), "{major}:{minor}");
        }
        assert!(rules.permits(c, 136, 7, rw), "any pty");
        assert!(rules.permits(c, 10, 232, m), "mknod of kvm");
        assert!(rules.permits(b, 7, 0, m), "mknod of loop0");
        for (major, minor) in [
            (10, 232),
            (10, 229),
            (10, 237),
            (1, 1),
            (1, 11),
            (4, 64),
            (10, 183),
        ] {
            assert!(
                !rules.permits(c, major, minor, Access::READ),
                "{major}:{minor}"
            );
        }
        assert!(!rules.permits(b, 7, 0, Access::READ), "loop0");
        assert!(!rules.permits(b, 254, 0, Access::WRITE), "a disk");
    }

    #[test]
    fn v1_lines_are_the_kernel_s_syntax() {
        let lines = DeviceRules::docker_default().v1_lines();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert_eq!(lines[2], "c 1:3 rwm");
        assert_eq!(lines[10], "c 136:* rwm");
        let fuse = DeviceRule::parse("c 10:229 rw").unwrap();
        let rules = DeviceRules::deny_all().allow(fuse);
        assert_eq!(rules.v1_lines(), ["c 10:229 rw"]);
        assert!(rules.permits(DeviceKind::Char, 10, 229, Access::parse("rw").unwrap()));
        assert!(!rules.permits(DeviceKind::Char, 10, 229, Access::MKNOD));
    }
}
