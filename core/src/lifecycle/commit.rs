//! `vessel commit` of a container that may still be running: it is frozen (cgroup
//! freezer) while its writable layer is packed, as docker pauses it, and thawed on every
//! path out. The packer itself never follows a symlink in the layer either
//! ([`crate::layers::pack_dir`]), so a container without a cgroup to freeze, or one
//! that changes its layer anyway, can make the commit fail but never pack a host file.

use super::error::Result;
use crate::cgroups::Frozen;
use crate::image::{self, Change, Image, Store};
use crate::layers::PackSummary;
use crate::state::{ContainerId, Observed, StateDir};
use crate::sys::crash::hold_point;

// ANCHOR: commit_frozen
/// Packs container `id`'s writable layer as the image `name` (with `changes` applied to
/// its config), the container frozen meanwhile if it is running or starting.
pub fn commit(
    dir: &StateDir,
    store: &Store,
    id: &ContainerId,
    name: &str,
    changes: &[Change],
) -> Result<(Image, PackSummary)> {
    let frozen = match dir.load(id) {
        Ok(record) if matches!(record.observed(), Observed::Running | Observed::Created) => {
            Frozen::freeze(&record.cgroup_dirs)?
        }
        // Exited, or not recorded (a library user's container): nothing runs to freeze.
        _ => None,
    };
    if frozen.is_some() {
        hold_point("commit-frozen");
    }
    let committed = image::commit_with_changes(store, id, name, changes)?;
    if let Some(frozen) = frozen {
        frozen.thaw()?;
    }
    Ok(committed)
}
// ANCHOR_END: commit_frozen
