//! `vessel run`, as the library does it: one entry point that admits a new container
//! (its cgroup placed and its record made, side by side, here), prepares its root and
//! its network, builds its spec and starts it, in the foreground or under a shim. The
//! CLI only turns its flags into a [`RunRequest`] and keeps the caller's terminal (the
//! relay, the signals it forwards, the printing), so any other caller of the library
//! records and tracks a container exactly as `vessel run` does.
//!
//! ```text
//!   prepare:  place the cgroup ─► record ─► root (layers) ─► network ─► spec (+ --init)
//!   then:     detach (fork the shim)  or  start ─► (the caller relays) ─► wait
//! ```
//!
//! The order is the start-up's own, and nothing is created before every value was
//! checked: bad limits fail at the placement, before any record, layer or cgroup exists;
//! the address is leased (and `/etc/hosts` written) before the clone, while the veth
//! pair is made by the parent as the child waits; a detached start starts no thread
//! before its fork.

mod network;
mod root;

use std::path::{Path, PathBuf};

pub use super::error::Warn;
use super::error::{LifecycleError, Result};
use super::{Tracked, run_detached};
use crate::cgroups::{CgroupSpec, Resources};
use crate::image::{BASE_IMAGE, Store};
use crate::namespaces::Namespace;
use crate::process::container::{Container, Running};
use crate::process::exit::ExitStatus;
use crate::process::spec::ContainerSpec;
use crate::process::stdio::Stdio;
use crate::rootfs::volume::Volume;
use crate::state::paths;
use crate::state::{ContainerId, Limits, MountRecord, Record, Root, StateDir, StateError};
use crate::tty::console::TerminalRequest;
pub use network::NetworkRequest;
use root::{ContainerRoot, Source};

/// A new container, as its caller asks for it: plain values, every one checked.
#[derive(Debug)]
pub struct RunRequest {
    /// Where vessel keeps its files (`--root`).
    pub root: Root,
    /// The new container's id.
    pub id: ContainerId,
    /// `--name`, unique among containers.
    pub name: Option<String>,
    /// Started in the background (`-d`): it needs a record and a log.
    pub detach: bool,
    /// `--rm`: removed once it has exited.
    pub auto_remove: bool,
    /// The image whose layers make its root (`None`: the base image), unless `rootfs`.
    pub image: Option<String>,
    /// A directory used in place as its root (`--rootfs`).
    pub rootfs: Option<PathBuf>,
    /// `--entrypoint`.
    pub entrypoint: Option<String>,
    /// The command typed after the image.
    pub command: Vec<String>,
    /// Its bind mounts (`-v`).
    pub volumes: Vec<Volume>,
    /// `--hostname` [default: the id, when it has a UTS namespace to hold it].
    pub hostname: Option<String>,
    /// `--workdir` [default: the image's `WORKDIR`, or `/`].
    pub workdir: Option<PathBuf>,
    /// `--init`: vessel-init as PID 1.
    pub init: bool,
    /// `--user` named the user: the image's `USER` does not replace the one `process`
    /// has (whose `--group-add` groups the image's user gets otherwise).
    pub user_named: bool,
    /// `--network`, `-p` and `--dns`.
    pub network: NetworkRequest,
    /// The container's process as the caller asks for it: its namespaces, rootfs mode,
    /// environment (the image's goes before it), capabilities, devices, security,
    /// filesystem hardening, trace, and its cgroup (`cgroup`, not yet placed: it is
    /// placed and recorded here). The library fills in the rest: the root and the
    /// command, the working directory, the volumes, the hostname, the network and
    /// `--init`.
    pub process: ContainerSpec,
}

/// Admits, records and prepares the container `request` asks for, and builds its
/// spec: everything but the start. Dropped unstarted, it leaves nothing behind.
pub fn prepare(mut request: RunRequest, warn: Warn) -> Result<Prepared> {
    let cgroup = place(&mut request)?;
    let dir = rootfs_for(&request)?;
    let tracked = track(&request, dir.as_deref(), cgroup.as_ref())?;
    // The init layer needs the hostname before the spec exists.
    let hostname = (request.hostname.clone()).unwrap_or_else(|| request.id.to_string());
    let source = Source {
        dir,
        image: request.image.as_deref(),
        entrypoint: request.entrypoint.as_deref(),
        command: &request.command,
        rm: request.auto_remove,
    };
    let (root, argv) = ContainerRoot::prepare(&request.root, source, &request.id, &hostname, warn)?;
    // The address is leased (and /etc/hosts written) before the clone; the veth pair is
    // made by the parent while the child waits (see Container::spawn_supervised).
    let mut names = vec![hostname.clone()];
    names.extend(request.name.clone().filter(|n| *n != hostname));
    let network = network::prepare(
        &request.root,
        &request.network,
        request.process.namespaces.contains(Namespace::User),
        request.id.as_str(),
        names,
        root.init_layer().as_deref(),
        warn,
    )?;
    let RunRequest {
        root: vessel_root,
        id,
        hostname: asked_hostname,
        workdir,
        volumes,
        init,
        user_named,
        process,
        ..
    } = request;
    let workdir = workdir.unwrap_or_else(|| PathBuf::from(root.image_workdir().unwrap_or("/")));
    let spec = ContainerSpec {
        rootfs: root.rootfs.clone(),
        argv,
        ..process
    };
    let mut spec = root.apply(spec.cwd(workdir), &volumes)?;
    // The hostname defaults to the id, when the container has a UTS namespace to hold it.
    match asked_hostname {
        Some(name) => spec = spec.hostname(name),
        None if spec.namespaces.contains(Namespace::Uts) => spec = spec.hostname(id.to_string()),
        None => {}
    }
    spec.cgroup = cgroup;
    // The image's USER, unless --user says otherwise (--group-add still applies).
    if let (false, Some(user)) = (user_named, root.image_user()) {
        let asked = spec.process_security.user.take();
        spec.process_security.user = Some(crate::security::UserRequest {
            user: user.to_owned(),
            group_add: asked.map(|u| u.group_add).unwrap_or_default(),
        });
    }
    spec.network = network.lease.as_ref().map(|l| l.attachment().clone());
    if let Some(path) = network.join.clone() {
        spec.join_namespaces.push((Namespace::Network, path));
    }
    if init && !spec.argv.is_empty() {
        let init_layer = root.init_layer();
        spec = crate::init::prepare(spec, vessel_root.dir(), init_layer.as_deref())?;
    }
    Ok(Prepared {
        spec,
        network,
        root,
        tracked,
        warn,
    })
}

/// A container admitted, recorded and ready to start (see [`prepare`]). The fields drop
/// in the order a start cut short undoes them: the address, the layers, the record.
#[derive(Debug)]
#[must_use = "a prepared container is removed again when dropped unstarted"]
pub struct Prepared {
    spec: ContainerSpec,
    network: network::Prepared,
    root: ContainerRoot,
    tracked: Option<Tracked>,
    warn: Warn,
}

impl Prepared {
    /// Starts the container under a shim (`vessel run -d`) and returns its id once it
    /// runs. The caller must not have started a thread: the shim is a fork.
    pub fn detach(mut self) -> Result<ContainerId> {
        // The shim outlives this process: it removes the layers for --rm.
        let remove_layers = self.root.cleanup_in_shim();
        // The shim gives the address back when the container exits; this process
        // returns while it runs, so its lease is kept once the start succeeded (a failed
        // start drops it here, which gives the address back).
        let released = (self.network.lease.as_ref()).map(|l| l.attachment().container.clone());
        let warn = self.warn;
        let after_exit = move || {
            if let Some(id) = released
                && let Err(error) = crate::network::release(&id)
            {
                warn(&crate::error_chain::chain(&error));
            }
            remove_layers();
        };
        let tracked = (self.tracked.take()).expect("a detached container is always recorded");
        let id = tracked.id().clone();
        run_detached(&self.spec, tracked, after_exit)?;
        self.network.lease.take().map(crate::network::Lease::keep);
        self.root.started();
        Ok(id)
    }

    /// Starts the container in the foreground, with `terminal` as its own terminal
    /// (`-t`), and returns once its command runs. A caller that forwards signals blocks
    /// them before this, so that none is lost while the child is made.
    pub fn start(mut self, terminal: Option<TerminalRequest>) -> Result<Foreground> {
        self.spec.terminal = terminal;
        // The pid is recorded before the child may exec (see `Container::spawn_supervised`).
        let running = Container::spawn_supervised(&self.spec, Stdio::default(), |pid| {
            (self.tracked.as_mut()).map_or(Ok(()), |tracked| tracked.cloned(pid))
        })?;
        let mut started = Foreground {
            running,
            network: Some(self.network),
            root: self.root,
            tracked: self.tracked,
            warn: self.warn,
        };
        if let Some(tracked) = &mut started.tracked {
            tracked.started(&started.running)?;
        }
        started.root.started();
        Ok(started)
    }
}

/// A container running in the foreground (see [`Prepared::start`]). Dropped, it kills
/// what still runs and removes the cgroup, then the layers (unless kept) and the record.
#[derive(Debug)]
#[must_use = "a container started in the foreground is killed when dropped"]
pub struct Foreground {
    running: Running,
    network: Option<network::Prepared>,
    root: ContainerRoot,
    tracked: Option<Tracked>,
    warn: Warn,
}

impl Foreground {
    /// The container's first process: to relay its terminal, forward signals, read its
    /// cgroup's counters.
    pub fn running(&self) -> &Running {
        &self.running
    }

    /// Waits for the container's first process, gives its network back and records
    /// its exit (and whether the OOM killer struck).
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let status = self.running.wait()?;
        // The container's namespace is gone with it: its address, veth and rules go too.
        self.network = None;
        // The exit code is what the caller waits for: a record that cannot be updated
        // (removed meanwhile by `vessel rm -f`) is worth a warning, not a different code.
        let exited = (self.tracked.take())
            .map(|tracked| tracked.exited(Some(status), self.running.oom_killed()));
        if let Some(Err(error)) = exited {
            (self.warn)(&crate::error_chain::chain(&error));
        }
        Ok(status)
    }
}

/// The container's cgroup, placed ([`CgroupSpec::place`]) so that the record and the
/// start read the machine's cgroup layout once between them: the one the request's
/// limits need, and without limits one all the same as root, for two reasons. It holds
/// the device allow-list (unless `--privileged`). And when the container shares the
/// host's PID namespace (`--pid host`) its first process is not the ancestor of all the
/// others any more, whose exit takes the rest down: only a cgroup lets its exit and
/// `vessel rm -f` find and kill what it started.
fn place(request: &mut RunRequest) -> Result<Option<CgroupSpec>> {
    let process = &mut request.process;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let host_pids = !process.namespaces.contains(Namespace::Pid);
    let devices = process.devices.is_some();
    let cgroup = match process.cgroup.take() {
        Some(limited) => limited,
        None if root && (host_pids || devices) => {
            CgroupSpec::new(request.id.as_str(), Resources::default())
        }
        None => return Ok(None),
    };
    Ok(Some(cgroup.place()?))
}

/// The rootfs directory to use: `--rootfs` when given, else `None` (image layers,
/// with a writable layer of the container's own, in a user namespace too). A caller
/// who is not root cannot mount the layers (the parent makes the overlay as real
/// root, see [`crate::layers::OverlayArgs::premount`]): it runs on the default rootfs
/// directory as it is, and cannot name an image.
fn rootfs_for(request: &RunRequest) -> Result<Option<PathBuf>> {
    if !request.process.namespaces.contains(Namespace::User) || request.rootfs.is_some() {
        return Ok(request.rootfs.clone());
    }
    if crate::namespaces::user::caller_ids().0 == 0 {
        return Ok(None);
    }
    if let Some(image) = &request.image {
        return Err(LifecycleError::UserNamespaceWithImage(image.clone()));
    }
    Ok(Some(crate::rootfs::default_rootfs_in(request.root.dir())?))
}

/// Records the container as created: its name (checked unique under the lock), image,
/// command, limits and mounts, and every path it may make on the host (cgroup
/// directories, layers, log), so that `vessel rm -f` can clean up whatever moment the
/// start is cut short at.
///
/// `None` for a foreground run without a name by a user who may not write the run
/// directory (rootless, without `$XDG_RUNTIME_DIR`): it runs as it always could,
/// unrecorded. `detach` and `name` need the record, and fail with the reason.
fn track(
    request: &RunRequest,
    rootfs: Option<&Path>,
    cgroup: Option<&CgroupSpec>,
) -> Result<Option<Tracked>> {
    match record(request, rootfs, cgroup) {
        Err(LifecycleError::State(StateError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::PermissionDenied
                && !request.detach
                && request.name.is_none() =>
        {
            Ok(None)
        }
        tracked => tracked.map(Some),
    }
}

fn record(
    request: &RunRequest,
    rootfs: Option<&Path>,
    cgroup: Option<&CgroupSpec>,
) -> Result<Tracked> {
    let id = &request.id;
    let dir = StateDir::open_in(&request.root)?;
    // Starts killed half-way (nobody left to finish them) go before a new one is made.
    crate::lifecycle::reap_never_started(&dir);
    let layers = rootfs
        .is_none()
        .then(|| paths::layers(request.root.dir(), id));
    let root = match (rootfs, &layers) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(layers)) => layers.merged(),
        (None, None) => unreachable!("no rootfs means image layers"),
    };
    let command = what_runs(request, rootfs);
    let mut record = Record::new(id.clone(), request.name.clone(), command, root);
    record.image = layers
        .is_some()
        .then(|| request.image.as_deref().unwrap_or(BASE_IMAGE).to_owned());
    if let Some(layers) = &layers {
        record.mounts.push(MountRecord {
            kind: "overlay".to_owned(),
            source: layers.upper(),
            destination: "/".into(),
            read_only: false,
        });
    }
    record
        .mounts
        .extend(request.volumes.iter().map(|v| MountRecord {
            kind: "bind".to_owned(),
            source: v.host.clone(),
            destination: v.container.clone(),
            read_only: v.read_only,
        }));
    if let Some(cgroup) = cgroup {
        record.limits = Limits::from(&cgroup.resources);
        record.cgroup_dirs = cgroup.dirs()?;
    }
    record.layers_dir = layers.map(|l| l.dir().to_owned());
    record.log = request.detach.then(|| dir.log_path(id));
    record.auto_remove = request.auto_remove;
    Tracked::create(dir, record)
}

/// The command the container will run, as `ps` should show it: `--entrypoint` and the
/// arguments resolved against the image's `ENTRYPOINT` and `CMD`, as the start resolves
/// them. An image that cannot be read is the start's to report: then what was typed.
fn what_runs(request: &RunRequest, rootfs: Option<&Path>) -> Vec<String> {
    let entrypoint = request.entrypoint.as_deref();
    if rootfs.is_some() {
        return crate::image::command::resolve(&[], &[], entrypoint, &request.command);
    }
    let name = request.image.as_deref().unwrap_or(BASE_IMAGE);
    match Store::open_in(&request.root).and_then(|store| store.image(name)) {
        Ok(image) => image.config.argv(entrypoint, &request.command),
        Err(_) => request.command.clone(),
    }
}

/// A container's limits as its record keeps them: the cgroup's, as plain numbers. Here,
/// where the library decides what a record holds, so that the records know nothing of
/// cgroups.
impl From<&Resources> for Limits {
    fn from(r: &Resources) -> Limits {
        Limits {
            memory_bytes: r.memory_bytes,
            cpu_quota_us: r.cpu_quota.map(|q| q.quota_us),
            cpu_period_us: r.cpu_quota.map(|q| q.period_us),
            cpu_shares: r.cpu_shares,
            cpuset_cpus: r.cpuset_cpus.as_ref().map(ToString::to_string),
            pids_max: r.pids_max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn(text: &str) {
        panic!("unexpected warning: {text}");
    }

    #[test]
    fn a_library_caller_is_placed_and_recorded_as_vessel_run_is() {
        let tmp = tempfile::tempdir().unwrap();
        let rootfs = tmp.path().join("rootfs");
        std::fs::create_dir(&rootfs).unwrap();
        let root = Root::new(Some(tmp.path().join("state")));
        let resources = Resources {
            memory_bytes: Some(64 << 20),
            ..Resources::default()
        };
        let id = ContainerId::random();
        let process = ContainerSpec::new(PathBuf::new(), Vec::<String>::new())
            .cgroup(CgroupSpec::new(id.as_str(), resources));
        let request = RunRequest {
            root: root.clone(),
            id: id.clone(),
            name: Some(format!("lib-{id}")),
            detach: false,
            auto_remove: false,
            image: None,
            rootfs: Some(rootfs.clone()),
            entrypoint: None,
            command: vec!["/bin/true".to_owned()],
            volumes: Vec::new(),
            hostname: None,
            workdir: None,
            init: false,
            user_named: false,
            network: NetworkRequest {
                mode: crate::network::NetworkMode::Host,
                publish: Vec::new(),
                dns: Vec::new(),
            },
            process,
        };
        let prepared = prepare(request, warn).unwrap();
        let record = StateDir::open_in(&root).unwrap().find(id.as_str()).unwrap();
        assert_eq!(record.name.as_deref(), Some(format!("lib-{id}").as_str()));
        assert_eq!(record.command, ["/bin/true"]);
        assert_eq!(record.limits.memory_bytes, Some(64 << 20));
        let cgroup = prepared.spec.cgroup.as_ref().expect("the spec's cgroup");
        assert!(
            cgroup.placement().is_some(),
            "placed once, before the record"
        );
        assert_eq!(record.cgroup_dirs, cgroup.dirs().unwrap());
        assert_eq!(prepared.spec.rootfs, rootfs);
        assert_eq!(prepared.spec.hostname.as_deref(), Some(id.as_str()));
        // Dropped unstarted, it leaves no record behind.
        drop(prepared);
        assert!(StateDir::open_in(&root).unwrap().find(id.as_str()).is_err());
    }
}
