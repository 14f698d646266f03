//! `vessel start ID`: let a created container's init run its command.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use clap::Args;

use crate::error::{Error, Result};
use crate::oci::state::OciStatus;
use crate::oci::{HookPoint, Hooks};
use crate::state::Root;

/// Arguments of `vessel start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The container's id.
    pub id: String,
}

// ANCHOR: start
/// Writes the one byte the waiting init reads from `exec.fifo`, then runs the
/// `poststart` hooks (a failing one is a warning, as the spec says).
pub fn start(root: &Root, args: StartArgs) -> Result<i32> {
    let (store, record, status) = super::load(root, &args.id)?;
    if status != OciStatus::Created {
        return Err(super::wrong_status(
            &args.id,
            "start",
            status,
            "only a created container starts",
        ));
    }
    let fifo_path = store.fifo(&record.id);
    // Non-blocking: if the init is gone, there is no reader and open fails (ENXIO)
    // instead of waiting for ever.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo_path)
        .map_err(|source| Error::Sys {
            call: "open the exec fifo (is the container's init still waiting?)",
            source,
        })?;
    // Gone first: from here `state` says running, and nobody can start it twice.
    std::fs::remove_file(&fifo_path).map_err(|source| Error::Sys {
        call: "remove the exec fifo",
        source,
    })?;
    fifo.write_all(&[0]).map_err(|source| Error::Sys {
        call: "write to the exec fifo",
        source,
    })?;
    let hooks = Hooks::load(record.bundle()).unwrap_or_default();
    if let Err(error) = hooks.run(
        HookPoint::Poststart,
        &args.id,
        record.bundle(),
        Some(record.pid),
    ) {
        crate::cli::output::errln!("vessel: warning: {}", crate::cli::error_chain(&error));
    }
    Ok(0)
}
// ANCHOR_END: start
