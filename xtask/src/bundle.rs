//! Writing one OCI bundle that every runtime can run: `config.json` (built with the
//! oci-spec crate) and a copy of vessel's default rootfs.
//!
//! The config asks all runtimes for the same work: new PID, mount, UTS, IPC, network and
//! cgroup namespaces and the standard mounts (`/proc`, `/dev`, `/dev/pts`, `/dev/shm`,
//! read-only `/sys`), both taken from the conformance suite's OCI adapter
//! ([`vessel_conformance::runtime::oci_config`]) so the benchmark and the suite ask the
//! peers for the same container; a cgroup (see [`crate::peer_cgroups`]) with memory and
//! pids limits; exec of `/bin/true` as root.
//!
//! [`Hardening::DockerDefaults`] adds what docker gives every container, which a default
//! `vessel run` applies too: its 14 capabilities, its seccomp profile, its masked and
//! read-only paths and its device cgroup, from the same data the conformance suite's
//! adapter uses ([`vessel_conformance::docker_defaults`]). [`Hardening::Off`] leaves all
//! of them out, so the table can show what the hardening costs each runtime.

use std::path::{Path, PathBuf};

use std::str::FromStr;

use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxMemoryBuilder,
    LinuxPidsBuilder, LinuxResourcesBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder,
    UserBuilder,
};
use vessel::security::capabilities::{DOCKER_DEFAULT, NAMES};
use vessel_conformance::docker_defaults::{MASKED_PATHS, READONLY_PATHS};
use vessel_conformance::runtime::oci_config::{
    container_namespaces, device_rules, seccomp, standard_mounts,
};

/// Which of docker's default protections the bundle asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hardening {
    /// docker's capabilities, seccomp profile, masked/read-only paths, device cgroup.
    DockerDefaults,
    /// None of them (the runtimes' own fixed steps still run).
    Off,
}

/// Writes the bundle into `dir` (which must not exist) from the rootfs at `rootfs`, with
/// its cgroup at `cgroups_path`.
pub fn write(
    dir: &Path,
    rootfs: &Path,
    cgroups_path: &Path,
    hardening: Hardening,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(rootfs)
        .arg(dir.join("rootfs"))
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    if !status.success() {
        return Err(format!(
            "copying {} into the bundle failed",
            rootfs.display()
        ));
    }
    let spec = config(cgroups_path, hardening).map_err(|e| format!("build config.json: {e}"))?;
    spec.save(dir.join("config.json"))
        .map_err(|e| format!("write config.json: {e}"))?;
    Ok(dir.to_owned())
}

fn config(cgroups_path: &Path, hardening: Hardening) -> Result<Spec, oci_spec::OciSpecError> {
    let mut process = ProcessBuilder::default()
        .terminal(false)
        .user(UserBuilder::default().uid(0u32).gid(0u32).build()?)
        .args(vec!["/bin/true".to_owned()])
        .env(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_owned()])
        .cwd("/");
    let namespaces = container_namespaces(false)?;
    let mut resources = LinuxResourcesBuilder::default()
        .memory(LinuxMemoryBuilder::default().limit(256i64 << 20).build()?)
        .pids(LinuxPidsBuilder::default().limit(64i64).build()?);
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(cgroups_path.to_owned());
    if hardening == Hardening::DockerDefaults {
        let caps: Capabilities = NAMES
            .iter()
            .enumerate()
            .filter(|(bit, _)| DOCKER_DEFAULT.contains(*bit as u32))
            .filter_map(|(_, name)| Capability::from_str(name).ok())
            .collect();
        process = process.no_new_privileges(false).capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                .inheritable(Capabilities::new())
                .ambient(Capabilities::new())
                .build()?,
        );
        resources = resources.devices(device_rules()?);
        linux = linux
            .masked_paths(MASKED_PATHS.map(str::to_owned).to_vec())
            .readonly_paths(READONLY_PATHS.map(str::to_owned).to_vec())
            .seccomp(seccomp(DOCKER_DEFAULT)?);
    }
    let process = process.build()?;
    let linux = linux.resources(resources.build()?).build()?;
    SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(false)
                .build()?,
        )
        .process(process)
        .hostname("bench")
        .mounts(standard_mounts()?)
        .linux(linux)
        .build()
}
