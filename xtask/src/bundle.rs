//! Writing one OCI bundle that every runtime can run: `config.json` (built with the
//! oci-spec crate) and a copy of vessel's default rootfs.
//!
//! The config asks all runtimes for the same work: new PID, mount, UTS, IPC, network and
//! cgroup namespaces; the standard mounts (`/proc`, `/dev`, `/dev/pts`, `/dev/shm`,
//! read-only `/sys`); a cgroup (see [`crate::peer_cgroups`]) with memory and pids limits; exec
//! of `/bin/true` as root. Masked and read-only paths are left out because vessel does
//! not apply them, so no runtime is charged for work the others skip.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    LinuxBuilder, LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder,
    LinuxResourcesBuilder, Mount, MountBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder,
    UserBuilder,
};

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
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ]
    .into_iter()
    .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
    .collect::<Result<Vec<_>, _>>()?;
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
        .mounts(mounts()?)
        .linux(linux)
        .build()
}

fn mounts() -> Result<Vec<Mount>, oci_spec::OciSpecError> {
    let mount = |destination: &str, typ: &str, options: &[&str]| {
        MountBuilder::default()
            .destination(destination)
            .typ(typ)
            .source(typ)
            .options(options.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>())
            .build()
    };
    Ok(vec![
        mount("/proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
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
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        )?,
        mount("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"])?,
    ])
}
