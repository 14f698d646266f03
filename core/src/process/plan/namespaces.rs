//! The steps each namespace type adds to a container's plan, and which namespaces
//! `clone3` creates itself.

use std::path::Path;

use super::in_root::below_root;
use super::step::{MountPoint, MountSource};
use super::step::{MountStep, Step};
use crate::namespaces::{Namespace, Namespaces};
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep, Refusal};
use crate::process::spec::ContainerSpec;
use crate::rootfs::mount_api::{MOUNT_ATTR_HARDENED, MOUNT_ATTR_RDONLY};

// ANCHOR: clone_flags
/// The `clone3` flags for `namespaces`. Two types are left to the child's own
/// `unshare`: a cgroup namespace takes as its root the cgroup the process is in *when it
/// is created*, which must be the container's cgroup (attached by the parent after the
/// clone), not the caller's; and a time namespace entered at clone time would freeze its
/// clock offsets at zero before the parent could write them.
pub fn clone_flags(namespaces: Namespaces) -> u64 {
    namespaces
        .without(Namespace::Cgroup)
        .without(Namespace::Time)
        .clone_flags()
}
// ANCHOR_END: clone_flags

/// Checks what the namespaces need from the spec.
pub fn validate(spec: &ContainerSpec) -> Result<()> {
    if spec.namespaces.contains(Namespace::User) {
        spec.effective_id_mapping()
            .validate()
            .map_err(ProcessError::InvalidIdMapping)?;
    }
    Ok(crate::cgroups::check_delegation(spec.cgroup.is_some())?)
}

/// The steps that run first, right after the parent's go: become root of a new user
/// namespace, then create the cgroup and time namespaces. With `gate_late` the go comes
/// later, and the cgroup namespace with it (see [`parent_gate`]).
pub fn first_steps(spec: &ContainerSpec, gate_late: bool) -> Vec<Step> {
    let ns = spec.namespaces;
    let mut steps = Vec::new();
    if ns.contains(Namespace::User) {
        // setgroups(2) is only allowed if the parent did not have to deny it (rootless).
        steps.push(Step::BecomeRoot {
            setgroups: crate::namespaces::user::caller_ids().0 == 0,
        });
    }
    if ns.contains(Namespace::Cgroup) && !gate_late {
        steps.push(Step::Unshare(libc::CLONE_NEWCGROUP));
    }
    if ns.contains(Namespace::Time) {
        steps.push(Step::Unshare(libc::CLONE_NEWTIME));
    }
    steps
}

/// The wait for the parent's go when it comes after the child's own steps, and the
/// cgroup namespace right after it: its root is the cgroup the child is in when it
/// unshares, which must be the container's (on cgroup v1 the parent attaches the child
/// while it runs its steps).
pub fn parent_gate(spec: &ContainerSpec) -> Vec<Step> {
    let mut steps = vec![Step::AwaitParent];
    if spec.namespaces.contains(Namespace::Cgroup) {
        steps.push(Step::Unshare(libc::CLONE_NEWCGROUP));
    }
    steps
}

// ANCHOR: join_by_path
/// The namespaces the spec joins by path (an OCI bundle's `linux.namespaces[].path`):
/// each file opened now, by the parent, and joined with `setns` as the child's very
/// first steps, before it makes anything. Returns the descriptors, which must stay open
/// until the child has run.
pub fn join_steps(
    steps: &mut Vec<Step>,
    spec: &ContainerSpec,
) -> Result<Vec<std::os::fd::OwnedFd>> {
    let mut held = Vec::new();
    let mut joins = Vec::new();
    for (namespace, path) in &spec.join_namespaces {
        let (nstype, name) = match namespace {
            Namespace::Network => (libc::CLONE_NEWNET, "net"),
            Namespace::Ipc => (libc::CLONE_NEWIPC, "ipc"),
            Namespace::Uts => (libc::CLONE_NEWUTS, "uts"),
            _ => {
                let namespace = format!("{namespace:?}");
                let refusal = Refusal::NotJoinable { namespace };
                return Err(ProcessError::refused(ProcessStep::JoinByPath, refusal));
            }
        };
        let file =
            std::fs::File::open(path).map_err(ProcessError::io(ProcessStep::OpenNamespace))?;
        let fd = std::os::fd::OwnedFd::from(file);
        joins.push(Step::SetNs {
            fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
            nstype,
            name,
        });
        held.push(fd);
    }
    steps.splice(0..0, joins);
    Ok(held)
}
// ANCHOR_END: join_by_path

/// The steps that run last, just before `execve`: bring up `lo`, enter the time namespace.
pub fn last_steps(spec: &ContainerSpec) -> Vec<Step> {
    let mut steps = Vec::new();
    if spec.namespaces.contains(Namespace::Network) {
        steps.push(Step::LoopbackUp);
    }
    if spec.namespaces.contains(Namespace::Time) {
        steps.push(Step::EnterTimeNamespace);
    }
    steps
}

/// `/sys` for a container in a user namespace without its own network namespace: the
/// kernel refuses a new sysfs there (sysfs shows network devices, which belong to the
/// network namespace's owner), so the host's `/sys` is bound in and made read-only.
pub fn bind_sys_read_only(steps: &mut Vec<Step>, root: &Path) -> Result<()> {
    steps.push(Step::Mount(MountStep {
        // Recursive (open_tree AT_RECURSIVE): a user namespace may not bind a mount
        // without the mounts on top of it, which could reveal what they hide.
        source: MountSource::Bind(c"/sys".to_owned()),
        target: below_root(root, "sys")?,
        create: MountPoint::Dir(0o555),
        attrs: MOUNT_ATTR_RDONLY | MOUNT_ATTR_HARDENED,
        keep: None,
    }));
    Ok(())
}

/// Whether `/sys` must be bound from the host rather than mounted fresh.
pub fn sys_needs_bind(spec: &ContainerSpec) -> bool {
    spec.namespaces.contains(Namespace::User) && !spec.namespaces.contains(Namespace::Network)
}
