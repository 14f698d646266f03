//! The plan: every step the child will take, decided and prepared by the parent.
//!
//! Between `clone` and `execve` the child may only make async-signal-safe calls, because
//! the caller can be multi-threaded and another thread may hold the allocator's lock at the
//! moment of the clone. So the parent does all the thinking here, turning a
//! [`ContainerSpec`] into [`Step`]s that own their C strings; the child (see
//! [`crate::process::child`]) only walks the list.

mod capabilities;
mod cstring;
mod dev;
mod exec;
mod extra_devices;
mod hooks;
pub(crate) mod in_root;
mod namespaces;
mod rootfs_mounts;
mod security;
pub mod step;
mod tenant;

use std::path::{Path, PathBuf};

pub(crate) use cstring::cstring;
pub use namespaces::clone_flags;
pub use step::{
    ExecStep, FdSlot, FsOption, HookStep, InRootPath, MountPoint, MountSource, MountStep, Plan,
    Step, describe_hook,
};
pub use tenant::{JoinTarget, plan_tenant};

use crate::namespaces::Namespace;
use crate::namespaces::hostname;
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep};
use crate::process::spec::{ContainerSpec, RootfsMode};
use crate::rootfs::mount_api::{MOUNT_ATTR_HARDENED, MOUNT_ATTR_RDONLY};

impl Plan {
    /// Checks `spec` and prepares every step. Nothing on the system changes here.
    pub fn for_spec(spec: &ContainerSpec) -> Result<Plan> {
        validate(spec)?;
        let root = resolve_rootfs(&spec.rootfs)?;
        let mut steps = vec![
            Step::ResetSignals,
            Step::SetUmask(0),
            // ANCHOR: propagation
            // First, before any mount: make every mount in our new namespace private, so
            // nothing mounted below propagates back to the host's mount table.
            Step::MakeMountsPrivate,
            // ANCHOR_END: propagation
        ];
        // Right after the parent's go, before anything else: the user namespace's root
        // identity, then the namespaces the child creates itself.
        let gate_late = parent_gate_late(spec);
        steps.splice(1..1, namespaces::first_steps(spec, gate_late));
        // Before those: no inherited descriptor reaches the command, and no terminal.
        steps.splice(
            1..1,
            security::first_steps(&spec.process_security, spec.terminal.is_some()),
        );
        // ANCHOR: overlay_root
        if let Some(overlay) = &spec.overlay {
            // The overlay mount is itself the mount point pivot_root needs.
            let in_userns = spec.namespaces.contains(Namespace::User);
            rootfs_mounts::mount_overlay(&mut steps, overlay, &root, in_userns)?;
        } else if spec.rootfs_mode == RootfsMode::PivotRoot || spec.read_only_root {
            steps.push(Step::BindRootOntoItself(cstring("rootfs", &root)?));
        }
        // ANCHOR_END: overlay_root
        // ANCHOR: open_root
        // From here on every path is resolved inside this descriptor, never through the
        // host's view of a symlink in the image (see crate::process::child::mounts).
        steps.push(Step::OpenRoot(cstring("rootfs", &root)?));
        // ANCHOR_END: open_root
        mount_proc(&mut steps, &root)?;
        // While /proc/sys is writable and reached through the rootfs path.
        steps.extend(security::sysctl_steps(&spec.process_security, &root)?);
        dev::mount_dev(&mut steps, &root, spec.namespaces.contains(Namespace::User))?;
        extra_devices::make_nodes(
            &mut steps,
            &spec.device_nodes,
            &root,
            spec.namespaces.contains(Namespace::User),
        )?;
        if namespaces::sys_needs_bind(spec) {
            namespaces::bind_sys_read_only(&mut steps, &root)?;
        } else {
            mount_sys(&mut steps, &root)?;
        }
        rootfs_mounts::mount_volumes_and_tmpfs(&mut steps, spec, &root)?;
        let hooks = hooks::plan(&spec.hooks)?;
        if gate_late && !hooks.create_container.is_empty() {
            steps.extend(namespaces::parent_gate(spec));
        }
        // ANCHOR: create_container_hooks
        // Every mount is in place and the host's tree is still reachable (no pivot_root
        // yet): the spec's createContainer point, as runc runs it. Before docker's path
        // hardening and the read-only root, which runc also applies after these hooks.
        steps.extend(hooks.create_container);
        // ANCHOR_END: create_container_hooks
        // docker's read-only and masked /proc and /sys paths, after every mount, so that
        // none can be mounted over them again.
        security::plan_path_hardening(&mut steps, spec, &root)?;
        if spec.read_only_root {
            // Last, once every mount point exists: only the root mount itself turns
            // read-only; /dev, /proc, volumes and tmpfs mounts stay as they are.
            steps.push(Step::MakeRootReadOnly);
        }
        match spec.rootfs_mode {
            RootfsMode::PivotRoot => {
                steps.push(Step::PivotRoot(cstring("rootfs", &root)?));
                steps.push(Step::DetachOldRoot);
            }
            RootfsMode::Chroot => steps.push(Step::Chroot(cstring("rootfs", &root)?)),
        }
        if let Some(name) = &spec.hostname {
            steps.push(Step::SetHostname(cstring("hostname", name)?));
        }
        steps.push(Step::SetUmask(0o022));
        steps.push(Step::Chdir(cstring("working directory", &spec.cwd)?));
        steps.extend(namespaces::last_steps(spec));
        if let Some(request) = spec.terminal {
            // After pivot_root, so that /dev/pts/ptmx is the container's own devpts.
            steps.push(Step::OpenTerminal(request));
            steps.push(Step::TakeTerminal);
        }
        let user_namespace = spec.namespaces.contains(Namespace::User);
        let bounding = spec.capabilities.as_ref().map_or_else(
            || crate::security::capabilities::available(user_namespace),
            |caps| caps.bounding,
        );
        let mut seccomp = security::compile_seccomp(&spec.process_security, bounding)?;
        // The child has made its whole root and pivoted into it while the parent created
        // and attached the cgroup: it waits now, before its command's privileges and
        // filter are set (unsharing the cgroup namespace needs CAP_SYS_ADMIN, and its
        // root must be the container's cgroup).
        if gate_late && !steps.iter().any(|s| matches!(s, Step::AwaitParent)) {
            steps.extend(namespaces::parent_gate(spec));
        }
        steps.extend(security::before_capabilities(
            &spec.process_security,
            &mut seccomp,
        ));
        let layers = image_root_fds(spec, &root)?;
        let image = crate::security::user::ImageRoot::Layers(&layers);
        let user = security::resolve_user(&spec.process_security, &image)?;
        let caps = security::capabilities_for(spec.capabilities.as_ref(), user.as_ref());
        // ANCHOR: drop_capabilities_last
        // Last before execve: every step above may need a privilege the command must not keep.
        let mut capability_steps = capabilities::plan(caps.as_ref(), user_namespace)?;
        // ANCHOR_END: drop_capabilities_last
        security::insert_switch_user(&mut capability_steps, user);
        steps.extend(capability_steps);
        steps.extend(security::after_capabilities(
            &spec.process_security,
            seccomp,
        ));
        // ANCHOR: start_container_hooks
        // Last before execve, as the container's user with its capabilities and
        // seccomp filter: the spec's startContainer point. `vessel create` puts its wait
        // for `start` just before the first of them (see Plan::start_gate_position).
        steps.extend(hooks.start_container);
        // ANCHOR_END: start_container_hooks
        steps.push(Step::Exec(exec::plan_exec(spec)?));
        let mut held = namespaces::join_steps(&mut steps, spec)?;
        held.extend(hooks.state_fd);
        Ok(Plan { steps, held })
    }

    /// The step the child reported as failed, by index.
    pub fn step(&self, index: usize) -> Option<&Step> {
        self.steps.get(index)
    }

    /// Where the wait for `vessel start` goes: before the first `startContainer` hook,
    /// else just before `execve` (the last step).
    pub fn start_gate_position(&self) -> usize {
        self.steps
            .iter()
            .position(|s| matches!(s, Step::Hook(h) if h.point == "startContainer"))
            .unwrap_or(self.steps.len().saturating_sub(1))
    }
}

// ANCHOR: parent_gate_when
/// Whether the child waits for the parent's go only once its root is made (see
/// [`namespaces::parent_gate`]) rather than before its first step. The child's mounts,
/// `/dev` and `pivot_root` need nothing of the parent, so on cgroup v1 they run while
/// the parent creates, fills and attaches the cgroup. Not when a step needs the parent
/// from the start: a user namespace's id maps, a time namespace's offsets; and not when
/// the runtime runs prestart or createRuntime hooks, which the spec runs before
/// `pivot_root`.
fn parent_gate_late(spec: &ContainerSpec) -> bool {
    !spec.namespaces.contains(Namespace::User)
        && !spec.namespaces.contains(Namespace::Time)
        && !spec.hooks.runtime_runs_hooks
}
// ANCHOR_END: parent_gate_when

fn validate(spec: &ContainerSpec) -> Result<()> {
    if spec.argv.is_empty() {
        return Err(ProcessError::NoCommand);
    }
    if !spec.namespaces.contains(Namespace::Mount) {
        return Err(ProcessError::NeedsMountNamespace);
    }
    namespaces::validate(spec)?;
    security::validate(&spec.process_security, spec.namespaces)?;
    rootfs_mounts::validate_volumes(spec)?;
    if let Some(name) = &spec.hostname {
        hostname::validate(name).map_err(|reason| ProcessError::InvalidHostname {
            name: name.clone(),
            reason,
        })?;
        if !spec.namespaces.contains(Namespace::Uts) {
            return Err(ProcessError::HostnameWithoutUts);
        }
    }
    if !spec.cwd.is_absolute() {
        return Err(ProcessError::RelativeCwd(spec.cwd.clone()));
    }
    Ok(())
}

/// The rootfs as an absolute path with symlinks resolved: `pivot_root` and bind mounts
/// work on the real directory, and the error messages should name it.
fn resolve_rootfs(rootfs: &Path) -> Result<PathBuf> {
    let bad = |reason| ProcessError::Rootfs {
        path: rootfs.to_owned(),
        reason,
    };
    let root = rootfs
        .canonicalize()
        .map_err(|_| bad("no such directory"))?;
    if !root.is_dir() {
        return Err(bad("not a directory"));
    }
    if root == Path::new("/") {
        return Err(bad("the host's own / cannot be a container rootfs"));
    }
    Ok(root)
}

/// The image's files for `--user` lookups: the overlay's layers (top-most first) or
/// the plain rootfs, each opened as a directory to resolve paths in.
fn image_root_fds(spec: &ContainerSpec, root: &Path) -> Result<Vec<std::os::fd::OwnedFd>> {
    if spec.process_security.user.is_none() {
        return Ok(Vec::new());
    }
    let dirs: Vec<&Path> = match &spec.overlay {
        Some(overlay) => std::iter::once(overlay.upper.as_path())
            .chain(overlay.lowers.iter().map(PathBuf::as_path))
            .collect(),
        None => vec![root],
    };
    dirs.into_iter()
        .map(|dir| {
            crate::security::user::open_dir(dir)
                .map_err(|e| ProcessError::io(ProcessStep::OpenImageRoot)(e))
        })
        .collect()
}

fn mount_proc(steps: &mut Vec<Step>, root: &Path) -> Result<()> {
    // ANCHOR: mount_proc
    // A fresh proc instance shows the PID namespace of the process that mounts it:
    // the child is PID 1 of its own namespace, so /proc lists only the container.
    steps.push(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"proc".to_owned(),
            options: Vec::new(),
        },
        target: in_root::below_root(root, "proc")?,
        create: MountPoint::Dir(0o555),
        attrs: MOUNT_ATTR_HARDENED,
        keep: None,
    }));
    // ANCHOR_END: mount_proc
    Ok(())
}

fn mount_sys(steps: &mut Vec<Step>, root: &Path) -> Result<()> {
    // Read-only: the container may look at the kernel's objects but not retune them.
    steps.push(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"sysfs".to_owned(),
            options: Vec::new(),
        },
        target: in_root::below_root(root, "sys")?,
        create: MountPoint::Dir(0o555),
        attrs: MOUNT_ATTR_RDONLY | MOUNT_ATTR_HARDENED,
        keep: None,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespaces::Namespaces;

    fn plan_in_tempdir(spec: impl FnOnce(PathBuf) -> ContainerSpec) -> Result<Plan> {
        let dir = tempfile::tempdir().unwrap();
        Plan::for_spec(&spec(dir.path().to_owned()))
    }

    #[test]
    fn pivot_root_plan_runs_in_the_documented_order() {
        let plan =
            plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).hostname("box")).unwrap();
        let order: Vec<String> = plan.steps.iter().map(Step::describe).collect();
        let position = |needle: &str| {
            order
                .iter()
                .position(|s| s.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing from {order:#?}"))
        };
        let sequence = [
            "make / private",
            "bind rootfs onto itself",
            "mount proc",
            "mount tmpfs",
            "mount sysfs",
            "pivot_root",
            "detach old root",
            "sethostname",
            "chdir",
            "PR_CAPBSET_DROP",
            "capset",
            "PR_CAP_AMBIENT_CLEAR_ALL",
            "execve",
        ];
        let positions: Vec<usize> = sequence.iter().map(|s| position(s)).collect();
        assert!(positions.is_sorted(), "{order:#?}");
    }

    #[test]
    fn the_child_makes_its_root_before_it_waits_for_the_parent() {
        use crate::namespaces::{Namespace, Namespaces};
        let with = |extra: &[Namespace]| {
            let namespaces = Namespaces::container_default()
                .with(Namespace::Cgroup)
                .with(Namespace::Network);
            let namespaces = extra.iter().fold(namespaces, |n, e| n.with(*e));
            let plan =
                plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).namespaces(namespaces))
                    .unwrap();
            plan.steps
                .iter()
                .map(Step::describe)
                .collect::<Vec<String>>()
        };
        let order = with(&[]);
        let at = |order: &[String], needle: &str| order.iter().position(|s| s.contains(needle));
        let gate = at(&order, "wait for the parent").expect("a gate in the plan");
        for before in ["mount proc", "pivot_root", "detach old root", "bring up lo"] {
            assert!(at(&order, before).unwrap() < gate, "{before}: {order:#?}");
        }
        // The cgroup namespace's root is the cgroup the parent attached the child to.
        assert!(order[gate + 1].contains("CLONE_NEWCGROUP"), "{order:#?}");
        for after in ["PR_CAPBSET_DROP", "capset", "execve"] {
            assert!(at(&order, after).unwrap() > gate, "{after}: {order:#?}");
        }
        // A user namespace's id maps come from the parent before anything: no late gate.
        let order = with(&[Namespace::User]);
        assert_eq!(at(&order, "wait for the parent"), None, "{order:#?}");
    }

    #[test]
    fn a_terminal_is_opened_after_pivot_root_and_taken_just_before_exec() {
        let request = crate::tty::TerminalRequest {
            socket: 9,
            rows: 24,
            cols: 80,
        };
        let plan = plan_in_tempdir(|root| {
            let mut spec = ContainerSpec::new(root, ["sh"]);
            spec.terminal = Some(request);
            spec
        })
        .unwrap();
        let at = |wanted: fn(&Step) -> bool| plan.steps.iter().position(wanted).unwrap();
        let opened = at(|s| matches!(s, Step::OpenTerminal(r) if r.socket == 9));
        assert!(at(|s| matches!(s, Step::DetachOldRoot)) < opened);
        assert_eq!(at(|s| matches!(s, Step::TakeTerminal)), opened + 1);
        // Only the parent's go, the hardening and capability steps between taking the
        // terminal and exec.
        let exec = at(|s| matches!(s, Step::Exec(_)));
        assert!(plan.steps[opened + 2..exec].iter().all(|s| {
            is_capability_step(s) || matches!(s, Step::Security(_) | Step::AwaitParent)
        }));
        let without = plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"])).unwrap();
        assert!(
            !without
                .steps
                .iter()
                .any(|s| matches!(s, Step::OpenTerminal(_)))
        );
    }

    fn is_capability_step(step: &Step) -> bool {
        matches!(
            step,
            Step::DropBoundingCapability(_)
                | Step::SetCapabilities { .. }
                | Step::ClearAmbientCapabilities
                | Step::RaiseAmbientCapability(_)
        )
    }

    // ANCHOR: capabilities_last
    #[test]
    fn capabilities_are_dropped_after_every_privileged_step_and_just_before_exec() {
        let userns = crate::namespaces::user::IdMapping::shifted(100_000, 65_536);
        let all = Namespaces::container_default()
            .with(Namespace::Network)
            .with(Namespace::Cgroup)
            .with(Namespace::Time)
            .with(Namespace::User);
        let specs: [fn(PathBuf, &crate::namespaces::user::IdMapping, Namespaces) -> ContainerSpec;
            3] = [
            |root, _, _| ContainerSpec::new(root, ["sh"]).hostname("box"),
            |root, map, ns| {
                ContainerSpec::new(root, ["sh"])
                    .namespaces(ns)
                    .id_mapping(map.clone())
                    .hostname("box")
            },
            // --init: the init is bind-mounted like a volume and exec'd as the command.
            |root, _, _| {
                crate::init::with_init(
                    ContainerSpec::new(root, ["sh"]),
                    Path::new("/bin/true"),
                    crate::init::PATH_ON_PLAIN_ROOTFS,
                )
            },
        ];
        for spec in specs {
            let plan = plan_in_tempdir(|root| spec(root, &userns, all)).unwrap();
            let first_cap = plan.steps.iter().position(is_capability_step).unwrap();
            let exec = plan.steps.len() - 1;
            assert!(matches!(plan.steps[exec], Step::Exec(_)));
            assert!(
                plan.steps[first_cap..exec].iter().all(is_capability_step),
                "{:#?}",
                plan.steps
            );
        }
        let privileged =
            plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).capabilities(None)).unwrap();
        assert!(!privileged.steps.iter().any(is_capability_step));
    }
    // ANCHOR_END: capabilities_last

    #[test]
    fn every_mount_is_resolved_in_the_opened_root_and_hardening_comes_after_the_mounts() {
        let plan = plan_in_tempdir(|root| {
            ContainerSpec::new(root, ["sh"])
                .read_only_root(true)
                .tmpfs(crate::rootfs::tmpfs::TmpfsMount::new("/run"))
        })
        .unwrap();
        let at = |wanted: fn(&Step) -> bool| plan.steps.iter().position(wanted).unwrap();
        let last = |wanted: fn(&Step) -> bool| plan.steps.iter().rposition(wanted).unwrap();
        let open_root = at(|s| matches!(s, Step::OpenRoot(_)));
        assert!(at(|s| matches!(s, Step::BindRootOntoItself(_))) < open_root);
        assert!(open_root < at(|s| matches!(s, Step::Mount(_))));
        // Every mount target is below the root or the fresh /dev, never a host path.
        for step in &plan.steps {
            if let Step::Mount(m) = step {
                assert!(!m.target.prefixes.is_empty(), "{m:?}");
                assert!(
                    m.target
                        .prefixes
                        .iter()
                        .all(|p| !p.to_bytes().starts_with(b"/"))
                );
            }
        }
        let read_only = at(|s| matches!(s, Step::ReadOnlyPath(_)));
        let masked = last(|s| matches!(s, Step::MaskPath(_)));
        let root_ro = at(|s| matches!(s, Step::MakeRootReadOnly));
        assert!(last(|s| matches!(s, Step::Mount(_))) < read_only);
        assert!(read_only < masked && masked < root_ro);
        assert!(root_ro < at(|s| matches!(s, Step::PivotRoot(_))));
        let privileged =
            plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).without_path_hardening())
                .unwrap();
        assert!(!privileged.steps.iter().any(|s| matches!(
            s,
            Step::ReadOnlyPath(_) | Step::MaskPath(_) | Step::MakeRootReadOnly
        )));
    }

    #[test]
    fn container_hooks_come_after_the_mounts_before_pivot_root_and_last_before_exec() {
        use crate::process::hooks::{HookCommand, HookList, InContainerHooks};
        let list = |path: &str| HookList {
            hooks: vec![HookCommand {
                path: path.into(),
                args: Vec::new(),
                env: Vec::new(),
                timeout_seconds: Some(2),
            }],
            state: Default::default(),
        };
        let plan = plan_in_tempdir(|root| {
            let mut spec = ContainerSpec::new(root, ["sh"]).read_only_root(true);
            spec.hooks = InContainerHooks {
                create_container: list("/host/create"),
                start_container: list("/start"),
                runtime_runs_hooks: false,
            };
            spec
        })
        .unwrap();
        let at = |point: &str| {
            plan.steps
                .iter()
                .position(|s| matches!(s, Step::Hook(h) if h.point == point))
                .unwrap()
        };
        let create = at("createContainer");
        let start = at("startContainer");
        let last = |wanted: fn(&Step) -> bool| plan.steps.iter().rposition(wanted).unwrap();
        assert!(last(|s| matches!(s, Step::Mount(_))) < create);
        assert!(create < last(|s| matches!(s, Step::ReadOnlyPath(_) | Step::MaskPath(_))));
        assert!(create < last(|s| matches!(s, Step::MakeRootReadOnly)));
        assert!(create < last(|s| matches!(s, Step::PivotRoot(_))));
        assert!(last(is_capability_step) < start);
        assert_eq!(start, plan.steps.len() - 2, "{:#?}", plan.steps);
        assert_eq!(plan.start_gate_position(), start);
        match &plan.steps[start] {
            Step::Hook(hook) => {
                assert_eq!(hook.args, [c"/start".to_owned()], "argv[0] is the path");
                assert_eq!(hook.timeout_ms, Some(2000));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(plan.held.len(), 1, "the memfd for the hooks' state");
    }

    #[test]
    fn chroot_plan_never_pivots() {
        let plan = plan_in_tempdir(|root| {
            ContainerSpec::new(root, ["sh"]).rootfs_mode(RootfsMode::Chroot)
        })
        .unwrap();
        assert!(plan.steps.iter().any(|s| matches!(s, Step::Chroot(_))));
        assert!(!plan.steps.iter().any(|s| matches!(s, Step::PivotRoot(_))));
    }

    #[test]
    fn bad_specs_are_refused_before_anything_happens() {
        let missing = Plan::for_spec(&ContainerSpec::new("/no/such/dir", ["sh"]));
        assert!(matches!(missing, Err(ProcessError::Rootfs { .. })));
        let host_root = Plan::for_spec(&ContainerSpec::new("/", ["sh"]));
        assert!(matches!(host_root, Err(ProcessError::Rootfs { .. })));
        let empty = plan_in_tempdir(|root| ContainerSpec::new(root, Vec::<String>::new()));
        assert!(matches!(empty, Err(ProcessError::NoCommand)));
        let bad_host = plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).hostname("a b"));
        assert!(matches!(
            bad_host,
            Err(ProcessError::InvalidHostname { .. })
        ));
        let relative = plan_in_tempdir(|root| ContainerSpec::new(root, ["sh"]).cwd("tmp"));
        assert!(matches!(relative, Err(ProcessError::RelativeCwd(_))));
        let nul = plan_in_tempdir(|root| ContainerSpec::new(root, ["sh\0"]));
        assert!(matches!(nul, Err(ProcessError::NulByte { .. })));
    }
}
