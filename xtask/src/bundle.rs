//! Writing one OCI bundle that every runtime can run: `config.json` (built with the
//! oci-spec crate) and a copy of vessel's default rootfs.
//!
//! The config asks all runtimes for the same work: new PID, mount, UTS, IPC, network and
//! cgroup namespaces and the standard mounts (`/proc`, `/dev`, `/dev/pts`, `/dev/shm`,
//! read-only `/sys`), both taken from the conformance suite's OCI adapter
//! ([`vessel_conformance::runtime::oci_config`]) so the benchmark and the suite ask the
//! peers for the same container; a cgroup (see [`crate::peer_cgroups`]) with memory and
//! pids limits; exec of `/bin/true` as root. Masked and read-only paths are left out because vessel does
//! not apply them, so no runtime is charged for work the others skip.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    LinuxBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder, ProcessBuilder,
    RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use vessel_conformance::runtime::oci_config::{container_namespaces, standard_mounts};

/// Writes the bundle into `dir` (which must not exist) from the rootfs at `rootfs`, with
/// its cgroup at `cgroups_path`.
pub fn write(dir: &Path, rootfs: &Path, cgroups_path: &Path) -> Result<PathBuf, String> {
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
    let spec = config(cgroups_path).map_err(|e| format!("build config.json: {e}"))?;
    spec.save(dir.join("config.json"))
        .map_err(|e| format!("write config.json: {e}"))?;
    Ok(dir.to_owned())
}

fn config(cgroups_path: &Path) -> Result<Spec, oci_spec::OciSpecError> {
    let process = ProcessBuilder::default()
        .terminal(false)
        .user(UserBuilder::default().uid(0u32).gid(0u32).build()?)
        .args(vec!["/bin/true".to_owned()])
        .env(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_owned()])
        .cwd("/")
        .build()?;
    let namespaces = container_namespaces(false)?;
    let resources = LinuxResourcesBuilder::default()
        .memory(LinuxMemoryBuilder::default().limit(256i64 << 20).build()?)
        .pids(LinuxPidsBuilder::default().limit(64i64).build()?)
        .build()?;
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(cgroups_path.to_owned())
        .resources(resources)
        .build()?;
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
