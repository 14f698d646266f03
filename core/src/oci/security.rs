//! A bundle's hardening fields: each one is mapped onto vessel's own option, or refused
//! by name when vessel cannot honour it. None is ignored.
//!
//! | config.json                          | vessel                                        |
//! |--------------------------------------|-----------------------------------------------|
//! | `root.readonly`                      | `read_only_root` (`--read-only`)              |
//! | `process.noNewPrivileges`            | `no_new_privileges`                           |
//! | `linux.seccomp`                      | a seccomp [`Profile`]; absent: no filter      |
//! | `linux.maskedPaths`/`readonlyPaths`  | the spec's lists; absent: none                |
//! | `process.rlimits`                    | `ulimits` (`RLIMIT_NOFILE` → `nofile`)        |
//! | `linux.sysctl`                       | `sysctls`, namespaced ones only               |
//! | `process.user` (uid, gid, groups)    | `--user UID:GID` / `--group-add`              |
//!
//! **Absent means off, as in runc.** A bundle's config.json is the whole description of
//! its container: docker and podman write the seccomp profile and the masked paths they
//! want into it, and leave them out for `--security-opt seccomp=unconfined` or
//! `--privileged`. So an absent `linux.seccomp` is no filter, and absent
//! `maskedPaths`/`readonlyPaths` are none — unlike `vessel run`, where docker's
//! defaults apply unless turned off by name (DESIGN.md). The process-level defaults that
//! have no config field stay on: `setsid()`, inherited descriptors closed, a fresh
//! session keyring, and the device cgroup's deny-by-default (as runc).

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, Process, Spec};

use super::{BundleError, unsupported};
use crate::namespaces::Namespaces;
use crate::process::spec::ContainerSpec;
use crate::security::seccomp::{Profile, Seccomp};
use crate::security::{Sysctl, Ulimit, UserRequest};

/// Applies every hardening field of `config` to `spec` (whose namespaces are set), or
/// refuses the first one vessel cannot honour. Returns warnings to print (a security
/// label for a Linux Security Module the host does not run).
pub fn apply(config: &Spec, spec: &mut ContainerSpec) -> Result<Vec<String>, BundleError> {
    let mut warnings = Vec::new();
    let process = config
        .process()
        .as_ref()
        .ok_or(BundleError::Missing("process"))?;
    let linux = config.linux().as_ref();

    // ANCHOR: bundle_hardening
    spec.read_only_root = config.root().as_ref().and_then(|r| r.readonly()) == Some(true);
    spec.process_security.no_new_privileges = process.no_new_privileges() == Some(true);
    spec.process_security.seccomp = match linux.and_then(|l| l.seccomp().as_ref()) {
        Some(given) => Seccomp::Profile(Box::new(seccomp_profile(given)?)),
        None => Seccomp::Unconfined,
    };
    let paths = |list: Option<&Vec<String>>| list.into_iter().flatten().map(Into::into).collect();
    spec.masked_paths = paths(linux.and_then(|l| l.masked_paths().as_ref()));
    spec.readonly_paths = paths(linux.and_then(|l| l.readonly_paths().as_ref()));
    spec.process_security.ulimits = rlimits(process)?;
    spec.process_security.sysctls = sysctls(config, spec.namespaces)?;
    spec.process_security.user = user(process)?;
    // ANCHOR_END: bundle_hardening

    skip_unraisable_ambient(spec, &mut warnings);
    refuse_the_rest(config, process, &mut warnings)?;
    Ok(warnings)
}

/// runc raises each ambient capability and only warns when the kernel refuses one
/// because it is not both permitted and inheritable; `runc spec`'s default config
/// asks for three such (ambient without inheritable). vessel skips them the same way,
/// with the warning printed, rather than refusing a bundle runc runs.
fn skip_unraisable_ambient(spec: &mut ContainerSpec, warnings: &mut Vec<String>) {
    let Some(caps) = spec.capabilities.as_mut() else {
        return;
    };
    let raisable = caps.permitted.and(caps.inheritable);
    let skipped = caps.ambient.minus(raisable);
    if skipped != crate::security::capabilities::CapSet::EMPTY {
        caps.ambient = caps.ambient.and(raisable);
        warnings.push(format!(
            "process.capabilities.ambient: {skipped} not raised (an ambient capability must \
             also be permitted and inheritable; runc skips it the same way)"
        ));
    }
}

/// `linux.seccomp` → vessel's [`Profile`], through its JSON: the OCI `LinuxSeccomp`
/// is docker's profile format without `includes`/`excludes`, so serialising it back and
/// reading it with the same parser as `--security-opt seccomp=FILE.json` is the exact
/// mapping. What vessel cannot do (a filter flag, a notify listener) is refused.
fn seccomp_profile(given: &LinuxSeccomp) -> Result<Profile, BundleError> {
    if given.flags().as_ref().is_some_and(|f| !f.is_empty()) {
        return Err(unsupported(
            "linux.seccomp.flags",
            "vessel installs filters without flags (SECCOMP_FILTER_FLAG_*); remove them",
        ));
    }
    if given.listener_path().is_some() || given.listener_metadata().is_some() {
        let field = if given.listener_path().is_some() {
            "linux.seccomp.listenerPath"
        } else {
            "linux.seccomp.listenerMetadata"
        };
        return Err(unsupported(
            field,
            "vessel has no seccomp notify agent; remove it and every SCMP_ACT_NOTIFY",
        ));
    }
    let notify = "vessel has no seccomp notify agent (SCMP_ACT_NOTIFY); use another action";
    if given.default_action() == LinuxSeccompAction::ScmpActNotify {
        return Err(unsupported("linux.seccomp.defaultAction", notify));
    }
    for (at, rule) in given.syscalls().iter().flatten().enumerate() {
        if rule.action() == LinuxSeccompAction::ScmpActNotify {
            return Err(unsupported(
                format!("linux.seccomp.syscalls[{at}].action"),
                notify,
            ));
        }
    }
    let json = serde_json::to_string(given)
        .map_err(|e| unsupported("linux.seccomp", format!("cannot be written back: {e}")))?;
    Profile::from_json(&json).map_err(|e| unsupported("linux.seccomp", e.to_string()))
}

/// `process.rlimits`: `RLIMIT_NOFILE` is docker's `nofile`, and so on.
fn rlimits(process: &Process) -> Result<Vec<Ulimit>, BundleError> {
    let mut ulimits = Vec::new();
    for rlimit in process.rlimits().iter().flatten() {
        let typ = serde_json::to_value(rlimit.typ())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let name = typ
            .strip_prefix("RLIMIT_")
            .unwrap_or(&typ)
            .to_ascii_lowercase();
        let ulimit = Ulimit::parse(&format!("{name}={}:{}", rlimit.soft(), rlimit.hard()))
            .map_err(|e| unsupported(format!("process.rlimits[{typ}]"), e.to_string()))?;
        ulimits.push(ulimit);
    }
    Ok(ulimits)
}

/// `linux.sysctl`: only the ones that belong to a namespace the container has of its
/// own, as `--sysctl` (a non-namespaced one would change the host for everyone).
fn sysctls(config: &Spec, namespaces: Namespaces) -> Result<Vec<Sysctl>, BundleError> {
    let mut given: Vec<(&String, &String)> = config
        .linux()
        .iter()
        .filter_map(|l| l.sysctl().as_ref())
        .flatten()
        .collect();
    given.sort();
    let mut sysctls = Vec::new();
    for (key, value) in given {
        let sysctl = Sysctl {
            key: key.clone(),
            value: value.clone(),
        };
        sysctl.check_namespaced(namespaces).map_err(|e| {
            let why = match e {
                crate::security::LimitError::SysctlRefused { reason, .. } => reason,
                other => other.to_string(),
            };
            unsupported(format!("linux.sysctl[{key}]"), why)
        })?;
        sysctls.push(sysctl);
    }
    Ok(sysctls)
}

/// `process.user`: uid, gid and `additionalGids` as `--user UID:GID --group-add GID`;
/// `umask` only as vessel sets it (docker's `022`).
fn user(process: &Process) -> Result<Option<UserRequest>, BundleError> {
    let user = process.user();
    if user.umask().is_some_and(|mask| mask != 0o022) {
        return Err(unsupported(
            "process.user.umask",
            "vessel sets docker's umask 022 before exec; remove it or set it to 18 (0o022)",
        ));
    }
    if user.username().is_some() {
        return Err(unsupported(
            "process.user.username",
            "a Windows field; give uid and gid",
        ));
    }
    let groups: Vec<String> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(u32::to_string)
        .collect();
    if user.uid() == 0 && user.gid() == 0 && groups.is_empty() {
        return Ok(None);
    }
    Ok(Some(UserRequest {
        user: format!("{}:{}", user.uid(), user.gid()),
        group_add: groups,
    }))
}

/// Every other hardening-related field: refused by name when set, except a security
/// label for a Linux Security Module the host does not run, which is skipped with a
/// warning (there is nothing to confine with).
fn refuse_the_rest(
    config: &Spec,
    process: &Process,
    warnings: &mut Vec<String>,
) -> Result<(), BundleError> {
    let linux = config.linux().as_ref();
    let mut labels = vec![
        (
            "process.apparmorProfile",
            "apparmor",
            process.apparmor_profile().is_some(),
        ),
        (
            "process.selinuxLabel",
            "selinux",
            process.selinux_label().is_some(),
        ),
        (
            "linux.mountLabel",
            "selinux",
            linux.is_some_and(|l| l.mount_label().is_some()),
        ),
    ];
    labels.retain(|(_, _, set)| *set);
    for (field, lsm, _) in labels {
        if host_runs_lsm(lsm) {
            return Err(unsupported(
                field,
                format!(
                    "vessel does not apply {lsm} labels, and this host enforces {lsm}; remove it"
                ),
            ));
        }
        warnings.push(format!(
            "{field} ignored: this host does not run {lsm}, so there is nothing to label"
        ));
    }
    let propagation = linux.and_then(|l| l.rootfs_propagation().as_deref());
    if propagation.is_some_and(|p| p != "private" && p != "rprivate") {
        return Err(unsupported(
            "linux.rootfsPropagation",
            "vessel makes the container's mounts rprivate; remove it or set \"rprivate\"",
        ));
    }
    let fields = [
        ("process.scheduler", process.scheduler().is_some()),
        ("process.ioPriority", process.io_priority().is_some()),
        (
            "process.execCPUAffinity",
            process.exec_cpu_affinity().is_some(),
        ),
        (
            "linux.intelRdt",
            linux.is_some_and(|l| l.intel_rdt().is_some()),
        ),
        (
            "linux.personality",
            linux.is_some_and(|l| l.personality().is_some()),
        ),
        (
            "linux.memoryPolicy",
            linux.is_some_and(|l| l.memory_policy().is_some()),
        ),
        (
            "linux.timeOffsets",
            linux.is_some_and(|l| l.time_offsets().is_some()),
        ),
        (
            "linux.netDevices",
            linux.is_some_and(|l| l.net_devices().is_some()),
        ),
    ];
    if let Some((field, _)) = fields.iter().find(|(_, set)| *set) {
        return Err(unsupported(
            *field,
            "vessel does not support it yet; remove it",
        ));
    }
    Ok(())
}

/// Whether the host runs the Linux Security Module `name`: listed in
/// `/sys/kernel/security/lsm`, or (without securityfs) its own switch says so.
pub(super) fn host_runs_lsm(name: &str) -> bool {
    if let Ok(list) = std::fs::read_to_string("/sys/kernel/security/lsm") {
        return list.trim().split(',').any(|lsm| lsm == name);
    }
    match name {
        "apparmor" => std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|v| v.trim() == "Y"),
        "selinux" => std::path::Path::new("/sys/fs/selinux/enforce").exists(),
        _ => false,
    }
}
