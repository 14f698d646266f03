//! `vessel run -d`: start a container that outlives the command that started it (see
//! [`crate::lifecycle::run_detached`] for the shim that makes that possible).

use crate::error::Result;
use crate::lifecycle::{self, Tracked};
use crate::process::spec::ContainerSpec;

/// Starts the container under a shim and prints its id. The CLI has started no thread,
/// as the fork needs.
pub fn run_detached(
    spec: ContainerSpec,
    tracked: Tracked,
    after_exit: impl FnOnce(),
) -> Result<i32> {
    let id = tracked.id().clone();
    lifecycle::run_detached(&spec, tracked, after_exit)?;
    // The container runs whatever becomes of our stdout: a reader that went away
    // (`vessel run -d … | true`) must not make this process panic half-way.
    super::output::out(&format!("{id}\n"));
    Ok(0)
}
