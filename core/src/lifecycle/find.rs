//! Finding a container by what a user typed, among all that vessel keeps of containers:
//! the records in the run directory, and the layers in the image store that have none
//! (a library user's container, or one whose record went with a reboot).

use super::error::Result;
use crate::image::Store;
use crate::state::{self, ContainerId, StateDir, StateError};

/// The id of the container `query` names: among the records by id, name or unique id
/// prefix, else among the kept layers by id or unique id prefix (layers have no name).
pub fn find(dir: &StateDir, store: &Store, query: &str) -> Result<ContainerId> {
    match dir.find(query) {
        Ok(record) => Ok(record.id),
        Err(StateError::NoSuchContainer(_)) => Ok(state::resolve(store.containers()?, query)?.id),
        Err(e) => Err(e.into()),
    }
}
