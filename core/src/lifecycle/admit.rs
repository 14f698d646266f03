//! What a new container is recorded as before anything of it exists, and the cgroup it
//! gets: the library's policy, so that `vessel run` and any other caller of the library
//! record and track a container alike.

use std::io::ErrorKind;
use std::path::Path;

use super::error::{LifecycleError, Result};
use crate::cgroups::{CgroupSpec, Resources};
use crate::image::{BASE_IMAGE, Store};
use crate::lifecycle::Tracked;
use crate::rootfs::volume::Volume;
use crate::state::paths;
use crate::state::{ContainerId, Limits, MountRecord, Record, Root, StateDir, StateError};

/// What a new container asks for, as far as its record and its cgroup are concerned.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// Where vessel keeps its files (`--root`).
    pub root: &'a Root,
    /// The new container's id.
    pub id: &'a ContainerId,
    /// `--name`, unique among containers.
    pub name: Option<&'a str>,
    /// Started in the background (`-d`): it needs a record and a log.
    pub detach: bool,
    /// `--rm`: removed once it has exited.
    pub auto_remove: bool,
    /// The image whose layers make its root (`None`: the base image), unless `rootfs`.
    pub image: Option<&'a str>,
    /// A directory used in place as its root (`--rootfs`, or a rootless fallback).
    pub rootfs: Option<&'a Path>,
    /// `--entrypoint`.
    pub entrypoint: Option<&'a str>,
    /// The command typed after the image.
    pub command: &'a [String],
    /// Its bind mounts (`-v`).
    pub volumes: &'a [Volume],
    /// It shares the host's PID namespace (`--pid host`).
    pub host_pids: bool,
    /// `--privileged`: no device allow-list.
    pub privileged: bool,
}

/// The container's cgroup: the one its limits need (`limited`), and without limits one
/// all the same as root, for two reasons. It holds the device allow-list (unless
/// `--privileged`). And when the container shares the host's PID namespace
/// (`--pid host`) its first process is not the ancestor of all the others any more,
/// whose exit takes the rest down: only a cgroup lets its exit and `vessel rm -f` find
/// and kill what it started. Made before the start, so that the record names it; placed
/// ([`CgroupSpec::place`]) like `limited`, so that the record and the start read the
/// machine's cgroup layout once between them.
pub fn cgroup(
    admission: &Admission<'_>,
    limited: Option<CgroupSpec>,
) -> Result<Option<CgroupSpec>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let devices = !admission.privileged;
    match limited {
        None if root && (admission.host_pids || devices) => {
            let implicit = CgroupSpec::new(admission.id.as_str(), Resources::default());
            Ok(Some(implicit.place()?))
        }
        limited => Ok(limited),
    }
}

/// Records the container as created: its name (checked unique under the lock), image,
/// command, limits and mounts, and every path it may make on the host (cgroup
/// directories, layers, log), so that `vessel rm -f` can clean up whatever moment the
/// start is cut short at.
///
/// `None` for a foreground run without a name by a user who may not write the run
/// directory (rootless, without `$XDG_RUNTIME_DIR`): it runs as it always could,
/// unrecorded. `detach` and `name` need the record, and fail with the reason.
pub fn track(admission: &Admission<'_>, cgroup: Option<&CgroupSpec>) -> Result<Option<Tracked>> {
    match record(admission, cgroup) {
        Err(LifecycleError::State(StateError::Io { source, .. }))
            if source.kind() == ErrorKind::PermissionDenied
                && !admission.detach
                && admission.name.is_none() =>
        {
            Ok(None)
        }
        tracked => tracked.map(Some),
    }
}

fn record(admission: &Admission<'_>, cgroup: Option<&CgroupSpec>) -> Result<Tracked> {
    let id = admission.id;
    let dir = StateDir::open_in(admission.root)?;
    // Starts killed half-way (nobody left to finish them) go before a new one is made.
    crate::lifecycle::reap_never_started(&dir);
    let layers = admission
        .rootfs
        .is_none()
        .then(|| paths::layers(admission.root.dir(), id));
    let root = match (admission.rootfs, &layers) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(layers)) => layers.merged(),
        (None, None) => unreachable!("no rootfs means image layers"),
    };
    let command = what_runs(admission);
    let name = admission.name.map(str::to_owned);
    let mut record = Record::new(id.clone(), name, command, root);
    record.image = layers
        .is_some()
        .then(|| admission.image.unwrap_or(BASE_IMAGE).to_owned());
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
        .extend(admission.volumes.iter().map(|v| MountRecord {
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
    record.log = admission.detach.then(|| dir.log_path(id));
    record.auto_remove = admission.auto_remove;
    Tracked::create(dir, record)
}

/// The command the container will run, as `ps` should show it: `--entrypoint` and the
/// arguments resolved against the image's `ENTRYPOINT` and `CMD`, as the start resolves
/// them. An image that cannot be read is the start's to report: then what was typed.
fn what_runs(admission: &Admission<'_>) -> Vec<String> {
    let entrypoint = admission.entrypoint;
    if admission.rootfs.is_some() {
        return crate::image::command::resolve(&[], &[], entrypoint, admission.command);
    }
    let name = admission.image.unwrap_or(BASE_IMAGE);
    match Store::open_in(admission.root).and_then(|store| store.image(name)) {
        Ok(image) => image.config.argv(entrypoint, admission.command),
        Err(_) => admission.command.to_vec(),
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
