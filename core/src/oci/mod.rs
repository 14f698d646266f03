//! Running an OCI bundle: a directory holding `config.json` and a rootfs, the format
//! runc, crun and youki take. vessel reads the process, the root, the hostname, the
//! namespaces and their id maps, the cgroup and its limits, the capabilities and the
//! lifecycle hooks ([`hooks`]). Anything it would otherwise silently ignore is refused by
//! name instead.

mod hooks;

use std::path::{Path, PathBuf};

pub use hooks::{HookError, HookPoint, Hooks};

use oci_spec::runtime::{LinuxNamespaceType, LinuxResources, Spec};

use crate::cgroups::{CgroupSpec, CpuQuota, CpuSet, DEFAULT_CPU_PERIOD_US, Resources};
use crate::namespaces::{Namespace, Namespaces};
use crate::spec::ContainerSpec;
use crate::userns::{IdMapping, IdRange};

/// The mounts vessel makes in every container; a bundle may list these and no others.
const STANDARD_MOUNTS: [&str; 7] = [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/sys",
    "/dev/mqueue",
    "/sys/fs/cgroup",
];

/// Why a bundle cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `config.json` is missing or not valid OCI runtime configuration.
    #[error("read config.json (check the bundle holds an OCI runtime config)")]
    Config(#[source] oci_spec::OciSpecError),
    /// A required field is absent.
    #[error("config.json has no {0}")]
    Missing(&'static str),
    /// A field vessel does not support has a value it cannot honour.
    #[error("{field}: {why}")]
    Unsupported { field: String, why: &'static str },
    /// A lifecycle hook failed; the container was stopped (or never started).
    #[error(transparent)]
    Hook(#[from] HookError),
}

fn unsupported(field: impl Into<String>, why: &'static str) -> BundleError {
    BundleError::Unsupported {
        field: field.into(),
        why,
    }
}

/// A bundle read and checked: the container to start and the hooks to run around it.
#[derive(Debug)]
pub struct Bundle {
    /// The container config.json describes.
    pub spec: ContainerSpec,
    /// Its lifecycle hooks.
    pub hooks: Hooks,
}

impl Bundle {
    /// Reads `bundle/config.json` for the container `id`; see [`spec_from_bundle`].
    pub fn load(bundle: &Path, id: &str) -> Result<Bundle, BundleError> {
        let config = Spec::load(bundle.join("config.json")).map_err(BundleError::Config)?;
        Ok(Bundle {
            spec: spec_from_config(&config, bundle, id)?,
            hooks: Hooks::from_config(&config)?,
        })
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
    if process.terminal() == Some(true) {
        return Err(unsupported(
            "process.terminal",
            "vessel does not allocate a terminal for bundles; set it to false",
        ));
    }
    if process.user().uid() != 0 || process.user().gid() != 0 {
        return Err(unsupported(
            "process.user",
            "vessel runs a bundle's process as uid 0, gid 0 of its namespace; set both to 0",
        ));
    }
    let mut spec = ContainerSpec::new(rootfs, args)
        .cwd(process.cwd())
        .namespaces(namespaces(config)?);
    if let Some(mapping) = id_mapping(config)? {
        spec = spec.id_mapping(mapping);
    }
    // OCI semantics: the environment is exactly what the config lists.
    spec.env = process.env().clone().unwrap_or_default();
    if let Some(hostname) = config.hostname() {
        spec = spec.hostname(hostname);
    }
    for mount in config.mounts().iter().flatten() {
        let destination = mount.destination().to_string_lossy().into_owned();
        if !STANDARD_MOUNTS.contains(&destination.as_str()) {
            return Err(unsupported(
                format!("mounts[{destination}]"),
                "vessel makes only its standard mounts (/proc, /dev, /dev/pts, /dev/shm, /sys)",
            ));
        }
    }
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
) -> Result<crate::capabilities::Capabilities, BundleError> {
    use crate::capabilities::{self as caps, CapSet};
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
    }
    if let Some(cpu) = resources.cpu() {
        if let Some(quota) = cpu.quota().filter(|q| *q > 0) {
            limits.cpu_quota = Some(CpuQuota {
                quota_us: positive("linux.resources.cpu.quota", quota)?,
                period_us: cpu.period().unwrap_or(DEFAULT_CPU_PERIOD_US),
            });
        }
        limits.cpu_shares = cpu.shares();
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
        ("blockIO", resources.block_io().is_some()),
        ("hugepageLimits", resources.hugepage_limits().is_some()),
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

fn namespaces(config: &Spec) -> Result<Namespaces, BundleError> {
    let listed = config
        .linux()
        .as_ref()
        .and_then(|linux| linux.namespaces().clone())
        .unwrap_or_default();
    let mut namespaces = Namespaces::empty();
    for ns in listed {
        if ns.path().is_some() {
            return Err(unsupported(
                format!("linux.namespaces[{}].path", ns.typ()),
                "joining an existing namespace is not supported; remove the path",
            ));
        }
        namespaces = namespaces.with(match ns.typ() {
            LinuxNamespaceType::Mount => Namespace::Mount,
            LinuxNamespaceType::Cgroup => Namespace::Cgroup,
            LinuxNamespaceType::Uts => Namespace::Uts,
            LinuxNamespaceType::Ipc => Namespace::Ipc,
            LinuxNamespaceType::User => Namespace::User,
            LinuxNamespaceType::Pid => Namespace::Pid,
            LinuxNamespaceType::Network => Namespace::Network,
            LinuxNamespaceType::Time => Namespace::Time,
        });
    }
    Ok(namespaces)
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
        let chown = crate::capabilities::CapSet::EMPTY.with(0);
        let chown_kill = chown.with(5);
        assert_eq!(caps.bounding, chown_kill);
        assert_eq!(caps.effective, chown);
        assert_eq!(caps.permitted, chown_kill);
        assert_eq!(caps.inheritable, crate::capabilities::CapSet::EMPTY);
        assert_eq!(caps.ambient, crate::capabilities::CapSet::EMPTY);
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
        let err = spec_from_bundle(bundle_with(&joined).path(), "box").unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.namespaces[uts].path: joining an existing namespace is not supported; remove the path"
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
}
