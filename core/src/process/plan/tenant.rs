//! The plan for `vessel exec`: join a running container instead of creating one.
//!
//! The steps run in an intermediate child of the caller (joining a user or mount
//! namespace needs a single-threaded process, which a library caller may not be). It
//! joins the container's cgroup while the host's cgroup files are still in reach, then
//! the namespaces (user first, so the others are joined with the capabilities it grants;
//! mount last but one, because it moves the root), then the container's root, then
//! forks: `setns` into a PID namespace only applies to children.

use std::ffi::CString;
use std::os::fd::RawFd;

use super::cstring::cstring;
use super::step::{Plan, Step};
use super::{capabilities, exec, security};
use crate::namespaces::Namespace;
use crate::process::error::{ProcessError, Result};
use crate::process::spec::ContainerSpec;
use crate::tty::console::TerminalRequest;

/// What to join, with every descriptor already open in the caller.
#[derive(Debug)]
pub struct JoinTarget {
    /// `/proc/PID/ns/*` files of the namespaces that differ from the caller's.
    pub namespaces: Vec<(Namespace, RawFd)>,
    /// `/proc/PID/root`, opened as a directory.
    pub root: RawFd,
    /// `cgroup.procs` files of the container's cgroups that differ from the caller's.
    pub cgroup_procs: Vec<CString>,
    /// Whether the container's user namespace allows `setgroups` (not after a rootless
    /// start, where the parent wrote `deny`).
    pub setgroups_allowed: bool,
    /// A terminal of its own for the command (`exec -t`): opened on the container's
    /// devpts, its master sent back through the request's socket.
    pub terminal: Option<TerminalRequest>,
    /// The capability sets of the container's first process, which the command gets
    /// too (as with `docker exec`); `None` keeps the joiner's.
    pub capabilities: Option<crate::security::capabilities::Capabilities>,
    /// The command's hardening: the spec's, made to match the container's (a
    /// container without a seccomp filter or `no_new_privs` gives none to its
    /// commands either; see [`crate::process::tenant`]).
    pub security: crate::security::process::ProcessSecurity,
}

/// The order namespaces are joined in: user first, mount last.
const JOIN_ORDER: [Namespace; 8] = [
    Namespace::User,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Network,
    Namespace::Pid,
    Namespace::Cgroup,
    Namespace::Time,
    Namespace::Mount,
];

// ANCHOR: plan_tenant
/// Plans joining `target` and running `spec`'s command, env and working directory
/// there (its rootfs and namespaces are ignored: the container's are used). The
/// intermediate process writes the command's pid to `pid_pipe`.
pub fn plan_tenant(target: &JoinTarget, spec: &ContainerSpec, pid_pipe: RawFd) -> Result<Plan> {
    if spec.argv.is_empty() {
        return Err(ProcessError::NoCommand);
    }
    if !spec.cwd.is_absolute() {
        return Err(ProcessError::RelativeCwd(spec.cwd.clone()));
    }
    let mut steps = vec![Step::ResetSignals];
    // close_range only: the session is made after the fork, by the command itself.
    steps.extend(security::first_steps(&target.security, true));
    steps.extend(target.cgroup_procs.iter().cloned().map(Step::JoinCgroup));
    for ns in JOIN_ORDER {
        if let Some((_, fd)) = target.namespaces.iter().find(|(n, _)| *n == ns) {
            steps.push(Step::SetNs {
                fd: *fd,
                nstype: ns.clone_flag() as libc::c_int,
                name: ns.proc_name(),
            });
        }
    }
    if target
        .namespaces
        .iter()
        .any(|(ns, _)| *ns == Namespace::User)
    {
        steps.push(Step::BecomeRoot {
            setgroups: target.setgroups_allowed,
        });
    }
    steps.push(Step::JoinRoot(target.root));
    steps.push(Step::ForkAsSibling { pid_pipe });
    if let Some(request) = target.terminal {
        // After the fork: the command must lead the session that owns the terminal (a
        // session whose leader exits loses its terminal). After JoinRoot: /dev/pts/ptmx
        // is then the container's devpts, opened as the container's root.
        steps.push(Step::OpenTerminal(request));
        steps.push(Step::TakeTerminal);
    } else {
        steps.push(Step::Security(crate::security::SecurityStep::NewSession));
    }
    steps.push(Step::SetUmask(0o022));
    steps.push(Step::Chdir(cstring("working directory", &spec.cwd)?));
    let bounding = target.capabilities.as_ref().map_or_else(
        || crate::security::capabilities::CapSet::up_to(crate::security::capabilities::last_cap()),
        |caps| caps.bounding,
    );
    let mut seccomp = security::compile_seccomp(&target.security, bounding)?;
    steps.extend(security::before_capabilities(
        &target.security,
        &mut seccomp,
    ));
    // SAFETY: `target.root` is the container's root, held open by the caller for as
    // long as this plan is built.
    let root = unsafe { std::os::fd::BorrowedFd::borrow_raw(target.root) };
    let user = security::resolve_user(
        &target.security,
        &crate::security::user::ImageRoot::Dir(root),
    )?;
    let mut capability_steps =
        security::capabilities_for(target.capabilities.as_ref(), user.as_ref())
            .map(|caps| capabilities::steps(&caps, crate::security::capabilities::last_cap()))
            .unwrap_or_default();
    security::insert_switch_user(&mut capability_steps, user);
    steps.extend(capability_steps);
    steps.extend(security::after_capabilities(&target.security, seccomp));
    steps.push(Step::Exec(exec::plan_exec(spec)?));
    Ok(Plan {
        steps,
        held: Vec::new(),
    })
}
// ANCHOR_END: plan_tenant

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_is_joined_first_and_the_fork_comes_after_every_setns() {
        let target = JoinTarget {
            namespaces: vec![
                (Namespace::Mount, 10),
                (Namespace::Pid, 11),
                (Namespace::User, 12),
            ],
            root: 13,
            cgroup_procs: vec![c"/sys/fs/cgroup/x/cgroup.procs".to_owned()],
            setgroups_allowed: true,
            terminal: None,
            capabilities: Some(crate::security::capabilities::Capabilities::docker_default()),
            security: crate::security::ProcessSecurity::default(),
        };
        let plan = plan_tenant(&target, &ContainerSpec::new("/", ["ps"]), 14).unwrap();
        let order: Vec<String> = plan.steps.iter().map(Step::describe).collect();
        let at = |needle: &str| order.iter().position(|s| s.contains(needle)).unwrap();
        assert!(at("join cgroup") < at("ns/user"));
        assert!(at("ns/user") < at("ns/pid"));
        assert!(at("ns/pid") < at("ns/mnt"));
        assert!(at("ns/mnt") < at("become root"));
        assert!(at("become root") < at("CLONE_PARENT"));
        assert!(at("CLONE_PARENT") < at("PR_CAPBSET_DROP"));
        assert!(at("capset") < at("execve"));
        assert_eq!(at("PR_CAP_AMBIENT_CLEAR_ALL") + 1, at("execve"));
        // Hardened as `run`: fds, a session of its own after the fork, the keyring and
        // the filter before the capabilities (no_new_privs is off).
        assert_eq!(at("close_range"), 1);
        assert_eq!(at("CLONE_PARENT") + 1, at("setsid()"));
        assert!(at("KEYCTL_JOIN_SESSION_KEYRING") < at("PR_CAPBSET_DROP"));
        assert!(at("seccomp(SECCOMP_SET_MODE_FILTER") < at("PR_CAPBSET_DROP"));
    }

    #[test]
    fn a_terminal_is_opened_inside_the_root_after_the_fork_and_taken_next() {
        let target = JoinTarget {
            namespaces: vec![(Namespace::Mount, 10), (Namespace::User, 12)],
            root: 13,
            cgroup_procs: Vec::new(),
            setgroups_allowed: true,
            terminal: Some(TerminalRequest {
                socket: 9,
                rows: 24,
                cols: 80,
            }),
            capabilities: Some(crate::security::capabilities::Capabilities::docker_default()),
            security: crate::security::ProcessSecurity::default(),
        };
        let plan = plan_tenant(&target, &ContainerSpec::new("/", ["sh"]), 14).unwrap();
        let at = |wanted: fn(&Step) -> bool| plan.steps.iter().position(wanted).unwrap();
        let opened = at(|s| matches!(s, Step::OpenTerminal(r) if r.socket == 9));
        assert!(at(|s| matches!(s, Step::BecomeRoot { .. })) < opened);
        assert!(at(|s| matches!(s, Step::JoinRoot(13))) < opened);
        assert!(at(|s| matches!(s, Step::ForkAsSibling { .. })) < opened);
        assert_eq!(at(|s| matches!(s, Step::TakeTerminal)), opened + 1);
        // The capabilities go last: opening and taking the terminal come before.
        assert!(at(|s| matches!(s, Step::SetCapabilities { .. })) > opened + 1);
    }
}
