//! Running an OCI bundle: a directory holding `config.json` and a rootfs, the format
//! runc, crun and youki take. vessel reads the process, the root, the hostname, the
//! namespaces and their id maps, the cgroup and its limits, the capabilities and the
//! lifecycle hooks ([`hooks`]) and every hardening field ([`security`]: read-only root,
//! `noNewPrivileges`, seccomp, masked and read-only paths, rlimits, sysctls, the user).
//! Anything it would otherwise silently ignore is refused by name instead.
//!
//! Absent hardening fields mean off, as in runc: config.json is the whole description,
//! and the client (docker, podman) already wrote the defaults it wanted into it. See
//! [`security`].

pub mod error;
mod hooks;
mod mounts;
mod security;
pub mod state;

use std::path::{Path, PathBuf};

pub use error::BundleError;
use error::unsupported;
pub use hooks::{HookError, HookPoint, Hooks};

use oci_spec::runtime::{LinuxNamespaceType, LinuxResources, Spec};

use crate::cgroups::{CgroupSpec, CpuQuota, CpuSet, DEFAULT_CPU_PERIOD_US, Resources};
use crate::namespaces::user::{IdMapping, IdRange};
use crate::namespaces::{Namespace, Namespaces};
use crate::process::spec::ContainerSpec;

impl From<HookError> for BundleError {
    fn from(error: HookError) -> BundleError {
        BundleError::Hook(Box::new(error))
    }
}

/// A bundle read and checked: the container to start and the hooks to run around it.
#[derive(Debug)]
pub struct Bundle {
    /// The container config.json describes.
    pub spec: ContainerSpec,
    /// Its lifecycle hooks.
    pub hooks: Hooks,
    /// What was skipped with a reason the caller should see (a label for a security
    /// module the host does not run).
    pub warnings: Vec<String>,
    /// `process.terminal`: the caller must give a console socket (`create
    /// --console-socket`), through which the pty's master is sent.
    pub terminal: bool,
    /// `process.consoleSize` as `(rows, cols)`, or 24×80.
    pub console_size: (u16, u16),
    /// config.json's annotations.
    pub annotations: std::collections::HashMap<String, String>,
    /// `process.oomScoreAdj`: written to `/proc/PID/oom_score_adj` by the parent while
    /// the child waits (see [`Bundle::set_oom_score_adj`]).
    pub oom_score_adj: Option<i32>,
}

impl Bundle {
    /// Reads `bundle/config.json` for the container `id`; see [`spec_from_bundle`].
    pub fn load(bundle: &Path, id: &str) -> Result<Bundle, BundleError> {
        let config = Spec::load(bundle.join("config.json")).map_err(BundleError::Config)?;
        let mut spec = spec_from_config(&config, bundle, id)?;
        let warnings = security::apply(&config, &mut spec)?;
        let hooks = Hooks::from_config(&config)?;
        spec.hooks = hooks.in_container(id, bundle);
        let process = config.process().as_ref();
        Ok(Bundle {
            spec,
            hooks,
            warnings,
            terminal: process.and_then(|p| p.terminal()) == Some(true),
            console_size: process.map_or((24, 80), console_size),
            annotations: config.annotations().clone().unwrap_or_default(),
            oom_score_adj: process.and_then(|p| p.oom_score_adj()),
        })
    }
}

/// The spec of a process `vessel exec --process FILE` starts in container `id`: the
/// bundle's config.json with its `process` replaced by `process` (FILE's JSON), so the
/// container's own seccomp profile, masked paths and device rules stay, and the
/// process's args, env, cwd, user, capabilities, rlimits and `noNewPrivileges` are the
/// new ones. Returns the spec and whether the process asks for a terminal.
pub fn exec_spec(
    bundle: &Path,
    id: &str,
    process: oci_spec::runtime::Process,
) -> Result<(ContainerSpec, bool), BundleError> {
    let mut config = Spec::load(bundle.join("config.json")).map_err(BundleError::Config)?;
    let terminal = process.terminal() == Some(true);
    config.set_process(Some(process));
    let mut spec = spec_from_config(&config, bundle, id)?;
    security::apply(&config, &mut spec)?;
    // Sysctls belong to the container, set once by create.
    spec.process_security.sysctls.clear();
    Ok((spec, terminal))
}

impl Bundle {
    /// Writes `process.oomScoreAdj` for the container's first process `pid`, while it
    /// still waits for the go: the command starts with it (and its children inherit it).
    pub fn set_oom_score_adj(&self, pid: libc::pid_t) -> std::io::Result<()> {
        match self.oom_score_adj {
            Some(value) => std::fs::write(format!("/proc/{pid}/oom_score_adj"), value.to_string()),
            None => Ok(()),
        }
    }
}

/// Reads `bundle/config.json` and turns it into a [`ContainerSpec`] for the container
/// `id` (whose name the cgroup takes when the config gives no `cgroupsPath`).
pub fn spec_from_bundle(bundle: &Path, id: &str) -> Result<ContainerSpec, BundleError> {
    Bundle::load(bundle, id).map(|b| b.spec)
}

fn spec_from_config(config: &Spec, bundle: &Path, id: &str) -> Result<ContainerSpec, BundleError> {
    let root = config.root().as_ref().ok_or(BundleError::Missing("root"))?;
    let rootfs = resolve(bundle, root.path());
    let process = config
        .process()
        .as_ref()
        .ok_or(BundleError::Missing("process"))?;
    let args = process
        .args()
        .clone()
        .filter(|args| !args.is_empty())
        .ok_or(BundleError::Missing("process.args"))?;
    let (created, joined) = namespaces(config)?;
    let mut spec = ContainerSpec::new(rootfs, args)
        .cwd(process.cwd())
        .namespaces(created);
    spec.join_namespaces = joined;
    if let Some(mapping) = id_mapping(config)? {
        spec = spec.id_mapping(mapping);
    }
    // OCI semantics: the environment is exactly what the config lists.
    spec.env = process.env().clone().unwrap_or_default();
    if let Some(hostname) = config.hostname() {
        spec = spec.hostname(hostname);
    }
    mounts::apply(config, &mut spec)?;
    spec.cgroup = cgroup(config, id)?;
    (spec.devices, spec.device_nodes) = devices(config)?;
    spec.capabilities = process
        .capabilities()
        .as_ref()
        .map(capabilities)
        .transpose()?;
    Ok(spec)
}

// ANCHOR: bundle_capabilities
/// `process.capabilities`, set by set; a set the config leaves out is empty, as runc
/// reads it. Without `process.capabilities` at all the process keeps every capability.
fn capabilities(
    given: &oci_spec::runtime::LinuxCapabilities,
) -> Result<crate::security::capabilities::Capabilities, BundleError> {
    use crate::security::capabilities::{self as caps, CapSet};
    let set = |field: &str, names: &Option<oci_spec::runtime::Capabilities>| {
        names.iter().flatten().try_fold(CapSet::EMPTY, |set, cap| {
            // oci-spec prints a capability without CAP_ (`SYS_ADMIN`).
            caps::parse(&cap.to_string())
                .map(|number| set.with(number))
                .ok_or_else(|| {
                    unsupported(
                        format!("process.capabilities.{field}[{cap}]"),
                        "vessel does not know this capability",
                    )
                })
        })
    };
    Ok(caps::Capabilities {
        bounding: set("bounding", given.bounding())?,
        effective: set("effective", given.effective())?,
        permitted: set("permitted", given.permitted())?,
        inheritable: set("inheritable", given.inheritable())?,
        ambient: set("ambient", given.ambient())?,
    })
}
// ANCHOR_END: bundle_capabilities

/// The cgroup: where `linux.cgroupsPath` says (relative paths below our own cgroup, as
/// runc reads them), with the limits of `linux.resources`. No cgroup when neither is set.
fn cgroup(config: &Spec, id: &str) -> Result<Option<CgroupSpec>, BundleError> {
    let Some(linux) = config.linux() else {
        return Ok(None);
    };
    let resources = match linux.resources() {
        Some(resources) => limits(resources)?,
        None => Resources::default(),
    };
    let Some(path) = linux.cgroups_path() else {
        return Ok((!resources.is_empty()).then(|| CgroupSpec::new(id, resources)));
    };
    let name = path
        .file_name()
        .ok_or_else(|| unsupported("linux.cgroupsPath", "must end in a cgroup name"))?;
    let mut spec = CgroupSpec::new(name.to_string_lossy(), resources);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        spec = spec.parent(parent);
    }
    Ok(Some(spec))
}

/// `linux.resources.devices` and `linux.devices` (see
/// [`crate::cgroups::devices::from_oci`]); without rules, docker's allow-list.
fn devices(
    config: &Spec,
) -> Result<
    (
        Option<crate::cgroups::DeviceRules>,
        Vec<crate::cgroups::DeviceNode>,
    ),
    BundleError,
> {
    use crate::cgroups::devices::from_oci;
    let linux = config.linux().as_ref();
    let refused = |e: from_oci::OciDeviceError| unsupported(e.field, e.why);
    let rules = match linux
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.devices().as_ref())
    {
        Some(given) => from_oci::rules(given).map_err(refused)?,
        None => crate::cgroups::DeviceRules::docker_default(),
    };
    let nodes = match linux.and_then(|l| l.devices().as_ref()) {
        Some(given) => from_oci::nodes(given).map_err(refused)?,
        None => Vec::new(),
    };
    Ok((Some(rules), nodes))
}

/// The subset of `linux.resources` vessel applies: memory, CPU quota and shares, cpuset
/// CPUs and pids. Anything else set there is refused by name.
fn limits(resources: &LinuxResources) -> Result<Resources, BundleError> {
    let positive = |field: &str, value: i64| {
        u64::try_from(value)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| unsupported(field, "must be a positive number"))
    };
    let mut limits = Resources::default();
    if let Some(memory) = resources.memory() {
        limits.memory_bytes = memory
            .limit()
            .map(|v| positive("linux.resources.memory.limit", v))
            .transpose()?;
        limits.memory_and_swap_bytes = match memory.swap() {
            None | Some(0) => None,
            Some(-1) => Some(u64::MAX),
            Some(total) if limits.memory_bytes.is_some_and(|m| total as u64 >= m) => {
                Some(total as u64)
            }
            Some(_) => {
                return Err(unsupported(
                    "linux.resources.memory.swap",
                    "memory+swap must be -1 or at least memory.limit, with a memory.limit",
                ));
            }
        };
        // What docker writes when nothing was asked (`disableOOMKiller: false`) is
        // accepted; anything vessel would not apply is refused by name.
        let memory_others = [
            ("reservation", memory.reservation().is_some_and(|v| v != 0)),
            ("kernel", memory.kernel().is_some_and(|v| v != 0)),
            ("kernelTCP", memory.kernel_tcp().is_some_and(|v| v != 0)),
            ("swappiness", memory.swappiness().is_some()),
            (
                "disableOOMKiller",
                memory.disable_oom_killer() == Some(true),
            ),
            ("useHierarchy", memory.use_hierarchy().is_some()),
            (
                "checkBeforeUpdate",
                memory.check_before_update() == Some(true),
            ),
        ];
        if let Some((field, _)) = memory_others.iter().find(|(_, set)| *set) {
            return Err(unsupported(
                format!("linux.resources.memory.{field}"),
                "vessel applies memory.limit only; remove it",
            ));
        }
    }
    if let Some(cpu) = resources.cpu() {
        if let Some(quota) = cpu.quota().filter(|q| *q > 0) {
            limits.cpu_quota = Some(CpuQuota {
                quota_us: positive("linux.resources.cpu.quota", quota)?,
                period_us: cpu.period().unwrap_or(DEFAULT_CPU_PERIOD_US),
            });
        }
        // docker writes `shares: 0` for "not set".
        limits.cpu_shares = cpu.shares().filter(|s| *s > 0);
        let cpu_others = [
            ("mems", cpu.mems().as_ref().is_some_and(|m| !m.is_empty())),
            (
                "realtimeRuntime",
                cpu.realtime_runtime().is_some_and(|v| v != 0),
            ),
            (
                "realtimePeriod",
                cpu.realtime_period().is_some_and(|v| v != 0),
            ),
            ("burst", cpu.burst().is_some_and(|v| v != 0)),
            ("idle", cpu.idle().is_some_and(|v| v != 0)),
        ];
        if let Some((field, _)) = cpu_others.iter().find(|(_, set)| *set) {
            return Err(unsupported(
                format!("linux.resources.cpu.{field}"),
                "vessel applies cpu shares, quota, period and cpus only; remove it",
            ));
        }
        if let Some(cpus) = cpu.cpus() {
            let set = CpuSet::parse(cpus).map_err(|_| {
                unsupported("linux.resources.cpu.cpus", "is not a CPU list such as 0-1")
            })?;
            limits.cpuset_cpus = Some(set);
        }
    }
    if let Some(pids) = resources.pids() {
        limits.pids_max = Some(positive("linux.resources.pids.limit", pids.limit())?);
    }
    let others = [
        // docker writes `blockIO: {weight: 0}` for "not set".
        (
            "blockIO",
            resources.block_io().as_ref().is_some_and(|b| {
                b.weight().is_some_and(|w| w != 0)
                    || b.leaf_weight().is_some_and(|w| w != 0)
                    || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
                    || b.throttle_read_bps_device()
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
                    || b.throttle_write_bps_device()
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
                    || b.throttle_read_iops_device()
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
                    || b.throttle_write_iops_device()
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
            }),
        ),
        (
            "hugepageLimits",
            resources
                .hugepage_limits()
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
        ),
        ("network", resources.network().is_some()),
        ("rdma", resources.rdma().is_some()),
        ("unified", resources.unified().is_some()),
    ];
    if let Some((field, _)) = others.iter().find(|(_, set)| *set) {
        return Err(unsupported(
            format!("linux.resources.{field}"),
            "vessel applies only memory, cpu, pids and devices limits; remove it",
        ));
    }
    Ok(limits)
}

/// The root path as the spec defines it: absolute, or relative to the bundle.
fn resolve(bundle: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        bundle.join(path)
    }
}

// ANCHOR: bundle_id_mapping
/// `linux.uidMappings` and `linux.gidMappings`, written for the user namespace as given.
/// Only with a user namespace, and both or neither, as runc insists.
fn id_mapping(config: &Spec) -> Result<Option<IdMapping>, BundleError> {
    let Some(linux) = config.linux() else {
        return Ok(None);
    };
    let ranges = |maps: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>| {
        maps.iter()
            .flatten()
            .map(|m| IdRange {
                inside: m.container_id(),
                outside: m.host_id(),
                count: m.size(),
            })
            .collect::<Vec<_>>()
    };
    let (uids, gids) = (ranges(linux.uid_mappings()), ranges(linux.gid_mappings()));
    if uids.is_empty() && gids.is_empty() {
        return Ok(None);
    }
    let has_userns = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::User);
    if !has_userns {
        return Err(unsupported(
            "linux.uidMappings",
            "id mappings need a user namespace in linux.namespaces; add {\"type\": \"user\"}",
        ));
    }
    if uids.is_empty() || gids.is_empty() {
        return Err(unsupported(
            if uids.is_empty() {
                "linux.uidMappings"
            } else {
                "linux.gidMappings"
            },
            "give both uidMappings and gidMappings",
        ));
    }
    let mapping = IdMapping { uids, gids };
    mapping
        .validate()
        .map_err(|why| unsupported("linux.uidMappings", why))?;
    Ok(Some(mapping))
}
// ANCHOR_END: bundle_id_mapping

/// `linux.namespaces`: the ones to create, and the ones to join by `path` (network, IPC
/// and UTS; any other type with a path is refused by name).
fn namespaces(config: &Spec) -> Result<(Namespaces, Vec<(Namespace, PathBuf)>), BundleError> {
    let listed = config
        .linux()
        .as_ref()
        .and_then(|linux| linux.namespaces().clone())
        .unwrap_or_default();
    let mut namespaces = Namespaces::empty();
    let mut joined = Vec::new();
    for ns in listed {
        let kind = match ns.typ() {
            LinuxNamespaceType::Mount => Namespace::Mount,
            LinuxNamespaceType::Cgroup => Namespace::Cgroup,
            LinuxNamespaceType::Uts => Namespace::Uts,
            LinuxNamespaceType::Ipc => Namespace::Ipc,
            LinuxNamespaceType::User => Namespace::User,
            LinuxNamespaceType::Pid => Namespace::Pid,
            LinuxNamespaceType::Network => Namespace::Network,
            LinuxNamespaceType::Time => Namespace::Time,
        };
        match ns.path() {
            None => namespaces = namespaces.with(kind),
            Some(path) if matches!(kind, Namespace::Network | Namespace::Ipc | Namespace::Uts) => {
                joined.push((kind, path.clone()));
            }
            Some(_) => {
                return Err(unsupported(
                    format!("linux.namespaces[{}].path", ns.typ()),
                    "vessel joins network, IPC and UTS namespaces by path; create this one \
                     (remove the path)",
                ));
            }
        }
    }
    Ok((namespaces, joined))
}

/// The terminal size `process.consoleSize` asks for (rows, columns), 24x80 if none: what
/// `create` and `exec --process` give the pty before the process runs.
pub fn console_size(process: &oci_spec::runtime::Process) -> (u16, u16) {
    process.console_size().map_or((24, 80), |s| {
        (
            u16::try_from(s.height()).unwrap_or(u16::MAX),
            u16::try_from(s.width()).unwrap_or(u16::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        dir
    }

    const MINIMAL: &str = r#"{
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/tmp", "env": ["PATH=/bin"]},
        "hostname": "bundled",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}]}
    }"#;

    #[test]
    fn a_minimal_bundle_becomes_the_spec_it_describes() {
        let bundle = bundle_with(MINIMAL);
        let spec = spec_from_bundle(bundle.path(), "box").unwrap();
        assert_eq!(spec.rootfs, bundle.path().join("rootfs"));
        assert_eq!(spec.argv, ["/bin/true"]);
        assert_eq!(spec.env, ["PATH=/bin"]);
        assert_eq!(spec.cwd, Path::new("/tmp"));
        assert_eq!(spec.hostname.as_deref(), Some("bundled"));
        assert_eq!(spec.namespaces.to_string(), "mnt,uts,pid");
        assert_eq!(spec.cgroup, None);
        assert_eq!(
            spec.capabilities, None,
            "no process.capabilities: keep them all"
        );
    }

    #[test]
    fn process_capabilities_become_the_five_sets() {
        let config = MINIMAL.replace(
            r#""cwd": "/tmp","#,
            r#""cwd": "/tmp", "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"],
                "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN", "CAP_KILL"]},"#,
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        let caps = spec.capabilities.expect("the bundle's sets");
        let chown = crate::security::capabilities::CapSet::EMPTY.with(0);
        let chown_kill = chown.with(5);
        assert_eq!(caps.bounding, chown_kill);
        assert_eq!(caps.effective, chown);
        assert_eq!(caps.permitted, chown_kill);
        assert_eq!(
            caps.inheritable,
            crate::security::capabilities::CapSet::EMPTY
        );
        assert_eq!(caps.ambient, crate::security::capabilities::CapSet::EMPTY);
    }

    /// `runc spec` writes ambient capabilities without inheritable ones; runc runs that
    /// bundle, skipping what it cannot raise, so vessel must too (it refused it).
    #[test]
    fn ambient_capabilities_that_cannot_be_raised_are_skipped_with_a_warning() {
        let config = MINIMAL.replace(
            r#""cwd": "/tmp","#,
            r#""cwd": "/tmp", "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"],
                "effective": ["CAP_CHOWN", "CAP_KILL"], "permitted": ["CAP_CHOWN", "CAP_KILL"],
                "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN", "CAP_KILL"]},"#,
        );
        let bundle = Bundle::load(bundle_with(&config).path(), "box").unwrap();
        let caps = bundle.spec.capabilities.expect("the bundle's sets");
        let chown = crate::security::capabilities::CapSet::EMPTY.with(0);
        assert_eq!(caps.ambient, chown, "CAP_KILL is not inheritable");
        assert_eq!(caps.inconsistency(), None);
        assert!(
            bundle
                .warnings
                .iter()
                .any(|w| w.contains("ambient") && w.contains("KILL")),
            "{:?}",
            bundle.warnings
        );
    }

    #[test]
    fn cgroups_path_and_resources_become_the_cgroup() {
        let config = MINIMAL.replace(
            r#""linux": {"#,
            r#""linux": {"cgroupsPath": "peers/bench",
                "resources": {"memory": {"limit": 268435456}, "pids": {"limit": 64},
                              "cpu": {"quota": 50000, "period": 100000}},"#,
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        let cgroup = spec.cgroup.expect("a cgroup");
        assert_eq!(cgroup.name, "bench");
        assert_eq!(cgroup.parent.as_deref(), Some(Path::new("peers")));
        assert_eq!(cgroup.resources.memory_bytes, Some(256 << 20));
        assert_eq!(cgroup.resources.pids_max, Some(64));
        assert_eq!(
            cgroup.resources.cpu_quota,
            Some(CpuQuota {
                quota_us: 50000,
                period_us: 100000
            })
        );
    }

    #[test]
    fn what_vessel_cannot_honour_is_refused_by_name() {
        let joined = MINIMAL.replace(
            r#"{"type": "uts"}"#,
            r#"{"type": "uts", "path": "/proc/1/ns/uts"}"#,
        );
        assert!(spec_from_bundle(bundle_with(&joined).path(), "box").is_ok());
        let joined_pid = MINIMAL.replace(
            r#"{"type": "pid"}"#,
            r#"{"type": "pid", "path": "/proc/1/ns/pid"}"#,
        );
        let err = spec_from_bundle(bundle_with(&joined_pid).path(), "box").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("linux.namespaces[pid].path: vessel joins network"),
            "{err}"
        );
        let extra_mount = MINIMAL.replace("\"/proc\", \"type\"", "\"/data\", \"type\"");
        let err = spec_from_bundle(bundle_with(&extra_mount).path(), "box").unwrap_err();
        assert!(err.to_string().starts_with("mounts[/data]:"), "{err}");
        let missing = spec_from_bundle(Path::new("/no/such/bundle"), "box").unwrap_err();
        assert!(matches!(missing, BundleError::Config(_)));
    }

    /// MINIMAL with a user namespace (or not) and the given map fields.
    fn with_maps(userns: bool, maps: &str) -> String {
        let user = if userns { r#", {"type": "user"}"# } else { "" };
        MINIMAL.replace(
            r#"{"type": "uts"}]"#,
            &format!(r#"{{"type": "uts"}}{user}]{maps}"#),
        )
    }

    #[test]
    fn id_mappings_need_a_user_namespace_and_both_lists() {
        let uids = r#", "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]"#;
        let gids = r#", "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]"#;
        let both = format!("{uids}{gids}");
        let spec = spec_from_bundle(bundle_with(&with_maps(true, &both)).path(), "box").unwrap();
        let mapping = spec.id_mapping.expect("the bundle's maps");
        assert_eq!(mapping.host_root_uid(), Some(100000));
        assert_eq!(mapping.host_root_gid(), Some(200000));
        assert_eq!(mapping.gids[0].count, 1000);
        assert!(spec.namespaces.contains(Namespace::User));

        let refused = |config: String| {
            spec_from_bundle(bundle_with(&config).path(), "box")
                .unwrap_err()
                .to_string()
        };
        let err = refused(with_maps(false, &both));
        assert!(
            err.starts_with("linux.uidMappings: id mappings need a user namespace"),
            "{err}"
        );
        let err = refused(with_maps(true, uids));
        assert!(err.starts_with("linux.gidMappings: give both"), "{err}");
    }

    #[test]
    fn hooks_are_read_and_checked() {
        let hooked = MINIMAL.replace(
            r#""hostname": "bundled","#,
            r#""hostname": "bundled", "hooks": {"poststop": [{"path": "/bin/true"}]},"#,
        );
        let bundle = Bundle::load(bundle_with(&hooked).path(), "box").unwrap();
        assert!(!bundle.hooks.is_empty());
        let relative = hooked.replace("/bin/true", "true");
        let err = Bundle::load(bundle_with(&relative).path(), "box").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.poststop[0]: the path must be absolute"
        );
    }

    /// MINIMAL with `extra` added to `process`, `linux` and `root` as given.
    fn hardened(process: &str, linux: &str, root: &str) -> String {
        MINIMAL
            .replace(r#""cwd": "/tmp","#, &format!(r#""cwd": "/tmp", {process}"#))
            .replace(r#""linux": {"#, &format!(r#""linux": {{{linux}"#))
            .replace(
                r#""path": "rootfs"}"#,
                &format!(r#""path": "rootfs"{root}}}"#),
            )
    }

    fn refusal(config: &str) -> String {
        spec_from_bundle(bundle_with(config).path(), "box")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn absent_hardening_fields_mean_off_as_in_runc() {
        let spec = spec_from_bundle(bundle_with(MINIMAL).path(), "box").unwrap();
        assert!(!spec.read_only_root);
        let security = &spec.process_security;
        assert!(!security.no_new_privileges);
        assert_eq!(security.seccomp, crate::security::Seccomp::Unconfined);
        assert!(spec.masked_paths.is_empty() && spec.readonly_paths.is_empty());
        assert!(security.ulimits.is_empty() && security.sysctls.is_empty());
        assert_eq!(security.user, None);
        assert!(
            security.new_session_keyring,
            "no config field: vessel's default"
        );
    }

    #[test]
    fn root_readonly_becomes_a_read_only_root() {
        let config = hardened("", "", r#", "readonly": true"#);
        assert!(
            spec_from_bundle(bundle_with(&config).path(), "box")
                .unwrap()
                .read_only_root
        );
    }

    #[test]
    fn no_new_privileges_is_applied() {
        let config = hardened(r#""noNewPrivileges": true,"#, "", "");
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        assert!(spec.process_security.no_new_privileges);
    }

    #[test]
    fn masked_and_readonly_paths_become_the_lists() {
        let config = hardened(
            "",
            r#""maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"],"#,
            "",
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        assert_eq!(
            spec.masked_paths,
            [Path::new("/proc/kcore"), Path::new("/sys/firmware")]
        );
        assert_eq!(spec.readonly_paths, [Path::new("/proc/sys")]);
    }

    // ANCHOR: bundle_seccomp_test
    #[test]
    fn linux_seccomp_becomes_the_profile() {
        let config = hardened(
            "",
            r#""seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                             {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                              "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                             {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]},"#,
            "",
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        let crate::security::Seccomp::Profile(profile) = spec.process_security.seccomp else {
            panic!("a profile");
        };
        assert_eq!(profile.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(profile.default_errno_ret, Some(38));
        assert_eq!(profile.architectures, ["SCMP_ARCH_X86_64"]);
        assert_eq!(profile.syscalls.len(), 3);
        assert_eq!(profile.syscalls[0].names, ["read", "write"]);
        let arg = &profile.syscalls[1].args[0];
        assert_eq!(
            (arg.index, arg.value, arg.op.as_str()),
            (0, 8, "SCMP_CMP_EQ")
        );
        assert_eq!(profile.syscalls[2].errno_ret, Some(1));
        assert!(
            crate::security::seccomp::compile(
                &profile,
                crate::security::seccomp::Target {
                    bounding: crate::security::capabilities::CapSet::EMPTY,
                    kernel: (6, 1)
                }
            )
            .is_ok()
        );
    }
    // ANCHOR_END: bundle_seccomp_test

    #[test]
    fn seccomp_features_vessel_lacks_are_refused_by_name() {
        let seccomp = |extra: &str| {
            hardened(
                "",
                &format!(r#""seccomp": {{"defaultAction": "SCMP_ACT_ALLOW"{extra}}},"#),
                "",
            )
        };
        let err = refusal(&seccomp(r#", "flags": ["SECCOMP_FILTER_FLAG_LOG"]"#));
        assert!(err.starts_with("linux.seccomp.flags:"), "{err}");
        let err = refusal(&seccomp(r#", "listenerPath": "/run/agent.sock""#));
        assert!(err.starts_with("linux.seccomp.listenerPath:"), "{err}");
        let err = refusal(&seccomp(
            r#", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]"#,
        ));
        assert!(
            err.starts_with("linux.seccomp.syscalls[0].action:"),
            "{err}"
        );
    }

    #[test]
    fn rlimits_become_ulimits() {
        let config = hardened(
            r#""rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048},
                           {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}],"#,
            "",
            "",
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        let ulimits = &spec.process_security.ulimits;
        assert_eq!(ulimits.len(), 2);
        assert_eq!(
            (
                ulimits[0].name,
                ulimits[0].resource,
                ulimits[0].soft,
                ulimits[0].hard
            ),
            ("nofile", libc::RLIMIT_NOFILE, 1024, 2048)
        );
        assert_eq!((ulimits[1].name, ulimits[1].hard), ("core", 0));
        let err = refusal(&hardened(
            r#""rlimits": [{"type": "RLIMIT_NOFILE", "soft": 9, "hard": 2}],"#,
            "",
            "",
        ));
        assert!(err.starts_with("process.rlimits[RLIMIT_NOFILE]:"), "{err}");
    }

    #[test]
    fn only_namespaced_sysctls_are_taken() {
        let ipc = MINIMAL.replace(r#"{"type": "uts"}"#, r#"{"type": "uts"}, {"type": "ipc"}"#);
        let config = ipc.replace(
            r#""linux": {"#,
            r#""linux": {"sysctl": {"kernel.msgmax": "65536"},"#,
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        assert_eq!(spec.process_security.sysctls[0].key, "kernel.msgmax");
        assert_eq!(spec.process_security.sysctls[0].value, "65536");
        let host = ipc.replace(
            r#""linux": {"#,
            r#""linux": {"sysctl": {"kernel.core_pattern": "|/x"},"#,
        );
        let err = refusal(&host);
        assert!(
            err.starts_with("linux.sysctl[kernel.core_pattern]: not namespaced"),
            "{err}"
        );
        let err = refusal(&hardened(
            "",
            r#""sysctl": {"net.ipv4.ip_forward": "1"},"#,
            "",
        ));
        assert!(err.contains("needs a network namespace"), "{err}");
    }

    #[test]
    fn oom_score_adj_and_docker_s_empty_resources_are_taken() {
        let config = hardened(r#""oomScoreAdj": 100,"#, "", "").replace(
            r#""linux": {"#,
            r#""linux": {"resources": {"memory": {"limit": 67108864, "swap": 134217728,
                "disableOOMKiller": false}, "cpu": {"shares": 0}, "blockIO": {"weight": 0}},"#,
        );
        let bundle = Bundle::load(bundle_with(&config).path(), "box").unwrap();
        assert_eq!(bundle.oom_score_adj, Some(100));
        let cgroup = bundle.spec.cgroup.expect("a cgroup");
        assert_eq!(cgroup.resources.memory_and_swap_bytes, Some(128 << 20));
        assert_eq!(cgroup.resources.cpu_shares, None);
        let weighted = config.replace(r#""weight": 0"#, r#""weight": 500"#);
        assert!(refusal(&weighted).starts_with("linux.resources.blockIO:"));
        let reserved = config.replace(r#""disableOOMKiller": false"#, r#""reservation": 1"#);
        assert!(refusal(&reserved).starts_with("linux.resources.memory.reservation:"));
    }

    #[test]
    fn process_user_becomes_the_user_request() {
        let config = MINIMAL.replace(
            r#""user": {"uid": 0, "gid": 0}"#,
            r#""user": {"uid": 1000, "gid": 100, "additionalGids": [10, 20], "umask": 18}"#,
        );
        let spec = spec_from_bundle(bundle_with(&config).path(), "box").unwrap();
        let user = spec.process_security.user.expect("a user");
        assert_eq!(user.user, "1000:100");
        assert_eq!(user.group_add, ["10", "20"]);
        let umask = config.replace(r#""umask": 18"#, r#""umask": 0"#);
        assert!(refusal(&umask).starts_with("process.user.umask:"));
    }

    #[test]
    fn other_hardening_fields_are_refused_by_name() {
        for (process, linux, field) in [
            (
                r#""scheduler": {"policy": "SCHED_FIFO"},"#,
                "",
                "process.scheduler",
            ),
            (
                r#""ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 1},"#,
                "",
                "process.ioPriority",
            ),
            ("", r#""intelRdt": {"closID": "x"},"#, "linux.intelRdt"),
            (
                "",
                r#""personality": {"domain": "LINUX32"},"#,
                "linux.personality",
            ),
            (
                "",
                r#""rootfsPropagation": "shared","#,
                "linux.rootfsPropagation",
            ),
        ] {
            let err = refusal(&hardened(process, linux, ""));
            assert!(err.starts_with(&format!("{field}:")), "{field}: {err}");
        }
        let private = hardened("", r#""rootfsPropagation": "rprivate","#, "");
        assert!(spec_from_bundle(bundle_with(&private).path(), "box").is_ok());
        let label = hardened(r#""apparmorProfile": "docker-default","#, "", "");
        match (
            security::host_runs_lsm("apparmor"),
            Bundle::load(bundle_with(&label).path(), "box"),
        ) {
            (true, Err(err)) => assert!(err.to_string().starts_with("process.apparmorProfile:")),
            (false, Ok(bundle)) => {
                assert!(bundle.warnings[0].starts_with("process.apparmorProfile ignored"))
            }
            (runs, outcome) => panic!("apparmor on the host: {runs}, bundle: {outcome:?}"),
        }
    }
}
