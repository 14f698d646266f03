//! `config.json` for one probe run, built with the oci-spec crate. Its namespaces and
//! standard mounts are public: `cargo xtask bench-peers` builds its bundle from them, so
//! the benchmark and the suite ask the peers for the same container.
//!
//! The container is given what docker gives a default one: new PID, mount, UTS, IPC,
//! network and cgroup namespaces (plus a user namespace on request), `/proc`, a tmpfs
//! `/dev` with `/dev/pts` and `/dev/shm`, a read-only `/sys`, docker's 14 capabilities,
//! no `no_new_privs`, docker's masked and read-only paths and its device cgroup
//! allow-list ([`crate::docker_defaults`]). So the security checks compare the same
//! defaults on every runtime, with docker's seccomp profile from vessel's own table
//! ([`seccomp`]), resolved for the container's capabilities as docker does.

use std::path::Path;
use std::str::FromStr;

use oci_spec::OciSpecError;
use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder,
    LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxIdMappingBuilder,
    LinuxMemoryBuilder, LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType,
    LinuxPidsBuilder, LinuxResourcesBuilder, LinuxSeccomp, Mount, MountBuilder, ProcessBuilder,
    RootBuilder, Spec, SpecBuilder, UserBuilder,
};

use super::{Request, USERNS_COUNT, USERNS_FIRST_HOST_ID};
use crate::docker_defaults;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// docker's device cgroup: deny everything, then its allow-list.
pub fn device_rules() -> Result<Vec<LinuxDeviceCgroup>, OciSpecError> {
    let deny_all = LinuxDeviceCgroupBuilder::default()
        .allow(false)
        .access("rwm")
        .build()?;
    let allowed = docker_defaults::DEVICE_ALLOW.iter().map(|rule| {
        let mut builder = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(if rule.kind == "b" {
                LinuxDeviceType::B
            } else {
                LinuxDeviceType::C
            })
            .access(rule.access);
        if let Some(major) = rule.major {
            builder = builder.major(major);
        }
        if let Some(minor) = rule.minor {
            builder = builder.minor(minor);
        }
        builder.build()
    });
    std::iter::once(Ok(deny_all)).chain(allowed).collect()
}

/// docker's default seccomp profile, as vessel applies it to its own containers, in
/// `linux.seccomp` form for a container with the bounding set `bounding`.
pub fn seccomp(
    bounding: ::vessel::security::capabilities::CapSet,
) -> Result<LinuxSeccomp, OciSpecError> {
    let json = ::vessel::security::seccomp::docker_default_oci_json(bounding)
        .map_err(|e| OciSpecError::Other(e.to_string()))?;
    serde_json::from_value(json).map_err(|e| OciSpecError::Other(e.to_string()))
}

/// The config for `request` on `rootfs`, with its cgroup at `cgroups_path`.
pub fn config(request: &Request, rootfs: &Path, cgroups_path: &Path) -> Result<Spec, OciSpecError> {
    // The set vessel gives its own containers; bounding, effective and permitted alike,
    // inheritable and ambient empty, as docker asks runc for.
    let wanted = request.capabilities();
    // vessel's table of names is the kernel's numbering, which oci-spec parses too.
    let caps: Capabilities = ::vessel::security::capabilities::NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| wanted.contains(*bit as u32))
        .filter_map(|(_, name)| Capability::from_str(name).ok())
        .collect();
    let process = ProcessBuilder::default()
        .terminal(false)
        .user(UserBuilder::default().uid(0u32).gid(0u32).build()?)
        .args(request.argv())
        .env(vec![format!(
            "PATH={}",
            ::vessel::process::spec::DEFAULT_PATH
        )])
        .cwd("/")
        .no_new_privileges(false)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps.clone())
                // Explicitly empty: the builder's default fills both with three caps.
                .inheritable(Capabilities::new())
                .ambient(Capabilities::new())
                .build()?,
        )
        .build()?;
    let namespaces = container_namespaces(request.userns)?;
    let mut resources = LinuxResourcesBuilder::default().devices(device_rules()?);
    if let Some(bytes) = request.limits.memory {
        resources = resources.memory(
            LinuxMemoryBuilder::default()
                .limit(bytes as i64)
                .swap(bytes as i64)
                .build()?,
        );
    }
    if let Some((quota, period)) = request.limits.cpu {
        resources = resources.cpu(
            LinuxCpuBuilder::default()
                .quota(quota as i64)
                .period(period)
                .build()?,
        );
    }
    if let Some(max) = request.limits.pids {
        resources = resources.pids(LinuxPidsBuilder::default().limit(max as i64).build()?);
    }
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(cgroups_path.to_owned())
        .resources(resources.build()?)
        // As vessel does: nothing flows between the container's mounts and the host's
        // (runc's and youki's default is rslave, which lets the host's later mounts in;
        // youki 0.7.0 refuses "rprivate": UnknownRootfsPropagation).
        .rootfs_propagation("private")
        .masked_paths(strings(&docker_defaults::MASKED_PATHS))
        .readonly_paths(strings(&docker_defaults::READONLY_PATHS))
        .seccomp(seccomp(wanted)?);
    if request.userns {
        let map = LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(USERNS_FIRST_HOST_ID)
            .size(USERNS_COUNT)
            .build()?;
        linux = linux.uid_mappings(vec![map]).gid_mappings(vec![map]);
    }
    let mut builder = SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path(rootfs)
                .readonly(false)
                .build()?,
        )
        .process(process)
        .mounts(mounts(request)?)
        .linux(linux.build()?);
    if let Some(name) = &request.hostname {
        builder = builder.hostname(name.clone());
    }
    builder.build()
}

/// The namespaces vessel gives a container (`vessel run --network none --cgroupns`):
/// PID, network, IPC, UTS, mount and cgroup, and a user namespace when `userns`.
pub fn container_namespaces(userns: bool) -> Result<Vec<LinuxNamespace>, OciSpecError> {
    let mut types = vec![
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ];
    if userns {
        types.push(LinuxNamespaceType::User);
    }
    types
        .into_iter()
        .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
        .collect()
}

fn mount(
    destination: &str,
    typ: &str,
    source: &str,
    options: &[&str],
) -> Result<Mount, OciSpecError> {
    MountBuilder::default()
        .destination(destination)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>())
        .build()
}

/// The mounts vessel makes in every container: `/proc`, a tmpfs `/dev` with `/dev/pts`
/// and `/dev/shm`, and a read-only `/sys`.
pub fn standard_mounts() -> Result<Vec<Mount>, OciSpecError> {
    Ok(vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        )?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        )?,
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?,
    ])
}

/// The standard mounts and `request`'s volumes.
fn mounts(request: &Request) -> Result<Vec<Mount>, OciSpecError> {
    let mut mounts = standard_mounts()?;
    for volume in &request.volumes {
        let mut options = vec!["rbind", "rprivate"];
        if volume.read_only {
            options.push("ro");
        }
        mounts.push(mount(
            &volume.container.to_string_lossy(),
            "bind",
            &volume.host.to_string_lossy(),
            &options,
        )?);
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::config;
    use crate::docker_defaults::{MASKED_PATHS, READONLY_PATHS};
    use crate::runtime::Request;

    #[test]
    fn the_bundle_asks_for_dockers_hardening() {
        let spec = config(
            &Request::probe(&["report"]),
            Path::new("/rootfs"),
            Path::new("/c"),
        )
        .unwrap();
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.masked_paths().as_deref().unwrap(), MASKED_PATHS);
        assert_eq!(linux.readonly_paths().as_deref().unwrap(), READONLY_PATHS);
        let seccomp = linux.seccomp().as_ref().expect("docker's seccomp profile");
        let allowed: Vec<&String> = seccomp
            .syscalls()
            .iter()
            .flatten()
            .filter(|r| r.action() == oci_spec::runtime::LinuxSeccompAction::ScmpActAllow)
            .flat_map(|r| r.names())
            .collect();
        assert!(allowed.iter().any(|n| *n == "read"));
        assert!(!allowed.iter().any(|n| *n == "keyctl"), "keyctl is refused");
        let devices = linux
            .resources()
            .as_ref()
            .unwrap()
            .devices()
            .clone()
            .unwrap();
        // First everything denied, then only the allow-list.
        assert!(!devices[0].allow());
        assert!(devices[1..].iter().all(|rule| rule.allow()));
        assert_eq!(
            spec.process().as_ref().unwrap().no_new_privileges(),
            Some(false)
        );
    }
}
