//! The record `vessel run` makes for a new container, before anything of it exists.

use std::io::ErrorKind;
use std::path::Path;

use super::run::RunArgs;
use crate::cgroups::{CgroupSpec, Resources};
use crate::error::{Error, Result};
use crate::image::{BASE_IMAGE, Store};
use crate::lifecycle::Tracked;
use crate::namespaces::Namespace;
use crate::state::{Limits, MountRecord, Record, StateDir};

/// The container's cgroup: the one its limits need, and without limits one all the
/// same as root, for two reasons. It holds the device allow-list (unless
/// `--privileged`). And when the container shares the host's PID namespace
/// (`--pid host`) its first process is not the ancestor of all the others any more,
/// whose exit takes the rest down: only a cgroup lets its exit and `vessel rm -f` find
/// and kill what it started. Made here, not by the start, so that the record names it.
pub fn cgroup(args: &RunArgs, id: &str) -> Result<Option<CgroupSpec>> {
    let limited = args.limits.cgroup(id)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let host_pids = !args.namespaces.namespaces().contains(Namespace::Pid);
    let devices = !args.capabilities.privileged;
    Ok(match limited {
        None if root && (host_pids || devices) => Some(CgroupSpec::new(id, Resources::default())),
        limited => limited,
    })
}

/// Records container `id` as created: its name (checked unique under the lock), image,
/// command, limits and mounts, and every path it may make on the host (cgroup
/// directories, layers, log), so that `vessel rm -f` can clean up whatever moment the
/// start is cut short at.
///
/// `None` for a foreground run without `--name` by a user who may not write the run
/// directory (rootless, without `$XDG_RUNTIME_DIR`): it runs as it always could,
/// unrecorded. `-d` and `--name` need the record, and fail with the reason.
pub fn track(
    args: &RunArgs,
    id: &str,
    cgroup: Option<&CgroupSpec>,
    rootfs: Option<&Path>,
) -> Result<Option<Tracked>> {
    match record(args, id, cgroup, rootfs) {
        Err(Error::State { source, .. })
            if source.kind() == ErrorKind::PermissionDenied
                && !args.detach
                && args.name.is_none() =>
        {
            Ok(None)
        }
        tracked => tracked.map(Some),
    }
}

fn record(
    args: &RunArgs,
    id: &str,
    cgroup: Option<&CgroupSpec>,
    rootfs: Option<&Path>,
) -> Result<Tracked> {
    let dir = StateDir::open()?;
    // Starts killed half-way (nobody left to finish them) go before a new one is made.
    crate::lifecycle::reap_never_started(&dir);
    let layers = rootfs
        .is_none()
        .then(|| crate::rootfs::state_root().join("containers").join(id));
    let root = match (rootfs, &layers) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(layers)) => layers.join("merged"),
        (None, None) => unreachable!("no rootfs means image layers"),
    };
    let command = what_runs(args, rootfs);
    let mut record = Record::new(id.to_owned(), args.name.clone(), command, root);
    record.image = layers.is_some().then(|| {
        args.layers
            .image
            .clone()
            .unwrap_or_else(|| BASE_IMAGE.to_owned())
    });
    if let Some(layers) = &layers {
        record.mounts.push(MountRecord {
            kind: "overlay".to_owned(),
            source: layers.join("upper"),
            destination: "/".into(),
            read_only: false,
        });
    }
    record
        .mounts
        .extend(args.layers.volumes.iter().map(|v| MountRecord {
            kind: "bind".to_owned(),
            source: v.host.clone(),
            destination: v.container.clone(),
            read_only: v.read_only,
        }));
    if let Some(cgroup) = cgroup {
        record.limits = Limits::from(&cgroup.resources);
        record.cgroup_dirs = cgroup.dirs_in(&cgroup.layout()?);
    }
    record.layers_dir = layers;
    record.log = args.detach.then(|| dir.log_path(id));
    record.auto_remove = args.layers.rm;
    Tracked::create(dir, record)
}

/// The command the container will run, as `ps` should show it: `--entrypoint` and the
/// arguments resolved against the image's `ENTRYPOINT` and `CMD`, as the start resolves
/// them. An image that cannot be read is the start's to report: then what was typed.
fn what_runs(args: &RunArgs, rootfs: Option<&Path>) -> Vec<String> {
    let entrypoint = args.layers.entrypoint.as_deref();
    if rootfs.is_some() {
        return crate::image::command::resolve(&[], &[], entrypoint, &args.command);
    }
    let name = args.layers.image.as_deref().unwrap_or(BASE_IMAGE);
    match Store::open_default().and_then(|store| store.image(name)) {
        Ok(image) => image.config.argv(entrypoint, &args.command),
        Err(_) => args.command.clone(),
    }
}
