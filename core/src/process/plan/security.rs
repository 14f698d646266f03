//! The process-hardening steps and where they go in a plan (`run` and `exec` alike):
//!
//! 1. first, `close_range(CLOSE_RANGE_CLOEXEC)` and `setsid()` (unless a terminal of
//!    the container's own is taken later, which makes its own session);
//! 2. right after `/proc` is mounted, the `--sysctl` writes, while `/proc/sys` is still
//!    writable and still reached through the rootfs path;
//! 3. before the capabilities are dropped: `--ulimit`s (raising one needs
//!    `CAP_SYS_RESOURCE`), the new session keyring (`keyctl` is refused by the default
//!    seccomp profile), and the seccomp filter when `no_new_privs` is off — installing
//!    a filter without `no_new_privs` needs `CAP_SYS_ADMIN`, as in runc;
//! 4. after the capabilities, last before `execve`: `no_new_privs`, then the filter when
//!    `no_new_privs` is on, so as few of vessel's own calls as possible go through it.

use std::path::Path;

use super::cstring::cstring;
use super::in_root::below_root;
use super::step::Step;
use crate::namespaces::Namespaces;
use crate::process::error::Result;
use crate::process::spec::ContainerSpec;
use crate::security::capabilities::CapSet;
use crate::security::process::ProcessSecurity;
use crate::security::seccomp::{self, Target};
use crate::security::step::SecurityStep;

/// Checks the options before anything is created: sysctls only for namespaces of the
/// container's own, ulimits only up to what the caller may set.
pub fn validate(security: &ProcessSecurity, namespaces: Namespaces) -> Result<()> {
    for sysctl in &security.sysctls {
        sysctl.check_namespaced(namespaces)?;
    }
    for ulimit in &security.ulimits {
        ulimit.check_allowed()?;
    }
    Ok(())
}

/// Step 1: no inherited descriptor survives `execve`, and no controlling terminal.
pub fn first_steps(security: &ProcessSecurity, own_terminal: bool) -> Vec<Step> {
    let keep = security
        .keep_fds
        .map(|(first, last)| (first.max(3) as u32, last.max(3) as u32));
    let mut steps = vec![Step::Security(SecurityStep::CloseInheritedFds { keep })];
    if !own_terminal {
        // ANCHOR: plan_setsid
        // Without a terminal of its own the container must not keep the caller's as
        // its controlling terminal: TIOCSTI on it would type into the caller's shell.
        steps.push(Step::Security(SecurityStep::NewSession));
        // ANCHOR_END: plan_setsid
    }
    steps
}

/// Step 2: the `--sysctl` writes, into the `/proc` mounted at `root/proc`.
pub fn sysctl_steps(security: &ProcessSecurity, root: &Path) -> Result<Vec<Step>> {
    security
        .sysctls
        .iter()
        .map(|sysctl| {
            Ok(Step::Security(SecurityStep::WriteSysctl {
                path: cstring(
                    "sysctl path",
                    root.join("proc/sys").join(sysctl.proc_path()),
                )?,
                value: cstring("sysctl value", &sysctl.value)?,
            }))
        })
        .collect()
}

// ANCHOR: compile_seccomp
/// The compiled filter, if the container has one; `bounding` is the bounding set the
/// command will have (the profile's capability conditions read it).
pub fn compile_seccomp(security: &ProcessSecurity, bounding: CapSet) -> Result<Option<Step>> {
    let Some(profile) = security.seccomp.profile() else {
        return Ok(None);
    };
    let target = Target {
        bounding,
        kernel: seccomp::compile::running_kernel(),
    };
    let program = seccomp::compile(&profile, target)?;
    Ok(Some(Step::Security(SecurityStep::InstallSeccomp(program))))
}
// ANCHOR_END: compile_seccomp

/// Step 3: what needs privileges the capability steps take away.
pub fn before_capabilities(security: &ProcessSecurity, seccomp: &mut Option<Step>) -> Vec<Step> {
    let mut steps: Vec<Step> = security
        .ulimits
        .iter()
        .map(|u| {
            Step::Security(SecurityStep::SetRlimit {
                name: u.name,
                resource: u.resource,
                soft: u.soft,
                hard: u.hard,
            })
        })
        .collect();
    if security.new_session_keyring {
        steps.push(Step::Security(SecurityStep::JoinSessionKeyring));
    }
    if !security.no_new_privileges {
        steps.extend(seccomp.take());
    }
    steps
}

/// `--user`: the ids, looked up in `root` (the image's files, read in-root).
pub fn resolve_user(
    security: &ProcessSecurity,
    root: &crate::security::user::ImageRoot<'_>,
) -> Result<Option<crate::security::ResolvedUser>> {
    security
        .user
        .as_ref()
        .map(|request| crate::security::user::resolve(request, root))
        .transpose()
        .map_err(Into::into)
}

/// The capability sets for `user`: a non-root user starts with none but the bounding
/// set (docker's rule); root keeps `caps`.
pub fn capabilities_for(
    caps: Option<&crate::security::capabilities::Capabilities>,
    user: Option<&crate::security::ResolvedUser>,
) -> Option<crate::security::capabilities::Capabilities> {
    let caps = caps.cloned()?;
    match user {
        Some(user) if user.uid != 0 => Some(crate::security::capabilities::Capabilities {
            bounding: caps.bounding,
            ..crate::security::capabilities::Capabilities::only(CapSet::EMPTY)
        }),
        _ => Some(caps),
    }
}

// ANCHOR: switch_user_between_capabilities
/// Inserts the `--user` switch into `steps` (the capability steps): after the bounding
/// set is dropped (that needs `CAP_SETPCAP`, which a non-root uid loses) and before
/// `capset` (which would take away `CAP_SETUID`/`CAP_SETGID` the switch needs).
pub fn insert_switch_user(steps: &mut Vec<Step>, user: Option<crate::security::ResolvedUser>) {
    let Some(user) = user else {
        return;
    };
    let at = steps
        .iter()
        .position(|s| matches!(s, Step::SetCapabilities { .. }))
        .unwrap_or(steps.len());
    steps.insert(
        at,
        Step::Security(SecurityStep::SwitchUser {
            uid: user.uid,
            gid: user.gid,
            groups: user.groups,
        }),
    );
}
// ANCHOR_END: switch_user_between_capabilities

/// Step 4: the last steps before `execve`.
pub fn after_capabilities(security: &ProcessSecurity, seccomp: Option<Step>) -> Vec<Step> {
    let mut steps = Vec::new();
    if security.no_new_privileges {
        steps.push(Step::Security(SecurityStep::NoNewPrivileges));
    }
    steps.extend(seccomp);
    steps
}

// ANCHOR: plan_path_hardening
/// The steps that make `spec.readonly_paths` read-only and hide `spec.masked_paths`,
/// each resolved inside the root by the child; a path missing on this kernel is skipped.
pub(crate) fn plan_path_hardening(
    steps: &mut Vec<Step>,
    spec: &ContainerSpec,
    root: &Path,
) -> Result<()> {
    for path in &spec.readonly_paths {
        steps.push(Step::ReadOnlyPath(below_root(root, path)?));
    }
    for path in &spec.masked_paths {
        steps.push(Step::MaskPath(below_root(root, path)?));
    }
    Ok(())
}
// ANCHOR_END: plan_path_hardening

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::Seccomp;

    fn names(steps: &[Step]) -> Vec<String> {
        steps.iter().map(Step::describe).collect()
    }

    #[test]
    fn the_filter_goes_before_the_capabilities_without_no_new_privs_and_last_with_it() {
        let mut security = ProcessSecurity::default();
        let mut filter =
            compile_seccomp(&security, crate::security::capabilities::DOCKER_DEFAULT).unwrap();
        let before = names(&before_capabilities(&security, &mut filter));
        assert!(before.last().unwrap().starts_with("seccomp("), "{before:?}");
        assert!(after_capabilities(&security, filter).is_empty());
        security.no_new_privileges = true;
        let mut filter =
            compile_seccomp(&security, crate::security::capabilities::DOCKER_DEFAULT).unwrap();
        let before = names(&before_capabilities(&security, &mut filter));
        assert!(!before.iter().any(|s| s.starts_with("seccomp(")));
        let after = names(&after_capabilities(&security, filter));
        assert_eq!(after[0], "prctl(PR_SET_NO_NEW_PRIVS, 1)");
        assert!(after[1].starts_with("seccomp(SECCOMP_SET_MODE_FILTER, "));
    }

    #[test]
    fn unconfined_has_no_filter_and_a_terminal_makes_its_own_session() {
        let security = ProcessSecurity {
            seccomp: Seccomp::Unconfined,
            ..ProcessSecurity::default()
        };
        assert!(compile_seccomp(&security, CapSet::EMPTY).unwrap().is_none());
        assert_eq!(names(&first_steps(&security, false))[1], "setsid()");
        assert_eq!(first_steps(&security, true).len(), 1);
    }
}
