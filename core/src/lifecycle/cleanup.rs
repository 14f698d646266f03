//! Removing what a container leaves on the host: its cgroup directories, its own
//! layers, its log and its record. Every step is idempotent and the record goes last,
//! so a removal cut short (even by `kill -9`) is finished by running it again.
//!
//! There is no host mount to undo: the overlay root and the volumes were mounted inside
//! the container's own mount namespace, which the kernel tore down with its last process.

use std::io::ErrorKind;
use std::path::Path;

use super::error::Result;
use crate::cgroups::{self, CgroupError, CgroupStep};
use crate::image::{ImageError, Store};
use crate::state::{
    ContainerId, Layers, Observed, Record, StateDir, StateError, StateStep, Status,
};

// ANCHOR: clean_up
/// Removes everything `record` names, then the record itself. The container's processes
/// must be gone (`remove` kills them first); anything still in its cgroup is killed.
pub fn clean_up(dir: &StateDir, record: &Record) -> Result<()> {
    for cgroup in &record.cgroup_dirs {
        remove_cgroup(cgroup)?;
    }
    if let Some(layers) = record.layers() {
        remove_layers(&layers, &record.id)?;
    }
    remove_file(&dir.log_path(&record.id))?;
    // Its address, veth and nftables rules, if its supervisor died before giving them
    // back (nothing to do otherwise).
    crate::network::release(record.id.as_str())?;
    Ok(dir.remove(&record.id)?)
}
// ANCHOR_END: clean_up

// ANCHOR: reap
/// Removes every container whose start was cut short: its record still says
/// "created", and neither its process nor its supervisor is alive any more, so nobody
/// will ever start it (a `vessel run` killed during start-up). Its cgroups, layers, log
/// and record go, as `rm -f` would remove them. Returns the ids reaped; a container
/// that cannot be cleaned up now is left for `rm -f` to report on.
pub fn reap_never_started(dir: &StateDir) -> Vec<ContainerId> {
    let Ok(records) = dir.list() else {
        return Vec::new();
    };
    records
        .into_iter()
        .filter(|r| r.status == Status::Created && r.observed() == Observed::NeverStarted)
        .filter(|r| clean_up(dir, r).is_ok())
        .map(|r| r.id)
        .collect()
}
// ANCHOR_END: reap

/// Kills what is left in one cgroup directory and removes it; vessel's shared parent
/// stays for the next container (see [`cgroups::DEFAULT_PARENT`]).
fn remove_cgroup(cgroup: &Path) -> Result<()> {
    if !cgroup.is_dir() {
        return Ok(());
    }
    // A commit killed while it held the container frozen left it so: frozen processes
    // (v1) do not die of SIGKILL until thawed.
    thaw(cgroup);
    cgroups::kill_all(&cgroup.join("cgroup.procs"))?;
    match std::fs::remove_dir(cgroup) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            return Err(CgroupError::io(CgroupStep::Rmdir(cgroup.to_owned()))(e).into());
        }
        _ => {}
    }
    Ok(())
}

/// Thaws a frozen cgroup (best effort: a cgroup without a freezer has nothing to thaw).
pub(super) fn thaw(cgroup: &Path) {
    for (file, value) in [("freezer.state", "THAWED"), ("cgroup.freeze", "0")] {
        let path = cgroup.join(file);
        if path.is_file() {
            let _ = std::fs::write(path, value);
        }
    }
}

/// Removes `containers/ID` from its image store, and the image layers nobody uses any
/// more; a directory the store no longer lists (a start cut short) is removed as is.
fn remove_layers(layers: &Layers, id: &ContainerId) -> Result<()> {
    // Whoever still holds the layers' "running" lock is on its way out (the container
    // and its supervisor are gone): a `vessel run -d` whose shim `rm -f` stopped, say,
    // which removes the layers itself as it returns. Wait for it, rather than race it.
    wait_for_running_lock(layers);
    let dir = layers.dir();
    if !dir.exists() {
        return Ok(());
    }
    let error = match Store::open(layers.root())?.remove_container(id) {
        Ok(_) => return Ok(()),
        Err(ImageError::NoLayers(_)) => match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => ImageError::Store {
                action: "remove container",
                path: dir.to_owned(),
                source: e,
            },
            _ => return Ok(()),
        },
        Err(e) => e,
    };
    if dir.exists() {
        Err(error.into())
    } else {
        Ok(())
    }
}

/// Blocks until nobody holds the layers' "running" lock (`flock` waits in the kernel).
/// The caller must not hold it itself (a library user with the container's
/// `ContainerFs` still alive): that would wait for ever.
fn wait_for_running_lock(layers: &Layers) {
    if let Ok(file) = std::fs::File::open(layers.running_lock()) {
        let _ = file.lock();
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(StateError::io(path, StateStep::Remove)(e).into())
        }
        _ => Ok(()),
    }
}
