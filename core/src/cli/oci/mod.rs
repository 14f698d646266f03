//! The OCI runtime command line, as runc spells it: what podman (through conmon),
//! containerd's shim and dockerd call. `create` leaves the container's init waiting,
//! every step but `execve` done; `start` lets it run; `state`, `kill`, `delete`, `ps`,
//! `pause`, `resume`, `update`, `list`, `features`, `spec` work on the state in
//! `ROOT/oci/ID` (see [`crate::oci::state`]). `kill`, `ps` and `exec` share their verb
//! with vessel's docker-style commands: an id that names an OCI container takes the
//! runc meaning (see [`is_oci_container`]).

pub mod create;
pub mod delete;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod log;
pub mod pause;
pub mod ps;
pub mod spec;
pub mod start;
pub mod state;
pub mod update;

use crate::error::{Error, Result};
use crate::oci::state::{OciStatus, OciStore};
use crate::state::{ContainerId, Record, Root};

/// Whether `id` names a container made by `vessel create` (not a `vessel run` one).
pub fn is_oci_container(root: &Root, id: &str) -> bool {
    ContainerId::parse(id).is_ok_and(|id| OciStore::open_in(root).exists(&id))
}

/// The store, the record of `id` and its status now.
pub fn load(root: &Root, id: &str) -> Result<(OciStore, Record, OciStatus)> {
    let store = OciStore::open_in(root);
    let record = store.load(&id.parse()?)?;
    let status = store.status(&record);
    Ok((store, record, status))
}

/// The error for a command that needs another status.
pub fn wrong_status(id: &str, verb: &str, status: OciStatus, hint: &str) -> Error {
    Error::Oci(
        format!(
            "cannot {verb} container {id:?}: it is {status}{}{hint}",
            if hint.is_empty() { "" } else { " (" }
        ) + if hint.is_empty() { "" } else { ")" },
    )
}
