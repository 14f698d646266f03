//! The capability options of `vessel run`: docker's `--cap-add`, `--cap-drop` and
//! `--privileged` (which also drops the masked and read-only paths).

use clap::Args;

use crate::error::Result;
use crate::namespaces::Namespace;
use crate::process::spec::ContainerSpec;
use crate::security::capabilities::{self, Capabilities, DOCKER_DEFAULT};

/// The capability options; see [`CapabilityArgs::apply`].
#[derive(Debug, Clone, Args)]
pub struct CapabilityArgs {
    /// Keep a capability docker's default set drops (repeatable; with or without CAP_,
    /// any case; ALL for every one vessel holds). The default set is CHOWN, DAC_OVERRIDE,
    /// FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP,
    /// NET_BIND_SERVICE, SYS_CHROOT, KILL and AUDIT_WRITE.
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability of the default set (repeatable; ALL drops every one, so that
    /// only --cap-add ones are kept).
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Turn off the defaults that confine container root, as docker --privileged does:
    /// keep every capability vessel has, allow every device (no device cgroup), and no
    /// seccomp filter (unless --security-opt seccomp=FILE names one), /proc/sys,
    /// /proc/sysrq-trigger, /proc/irq, /proc/bus and /proc/fs writable and /proc/kcore,
    /// /proc/keys, /sys/firmware and docker's other masked paths visible. setsid, no
    /// inherited fds and a fresh session keyring stay.
    #[arg(long, conflicts_with_all = ["cap_add", "cap_drop"])]
    pub privileged: bool,
}

impl CapabilityArgs {
    /// `spec` with the capabilities asked for; ALL means every capability the
    /// container can be given (see [`capabilities::available`]).
    pub fn apply(&self, spec: ContainerSpec) -> Result<ContainerSpec> {
        if self.privileged {
            return Ok(spec
                .capabilities(None)
                .devices(None)
                .without_path_hardening());
        }
        let all = capabilities::available(spec.namespaces.contains(Namespace::User));
        let set = capabilities::tweak(DOCKER_DEFAULT, all, &self.cap_add, &self.cap_drop)?;
        Ok(spec.capabilities(Some(Capabilities::only(set))))
    }
}
