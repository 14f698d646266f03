//! `vessel state ID`: the runtime-spec state document, read from the kernel.

use clap::Args;

use crate::error::Result;
use crate::state::Root;

/// Arguments of `vessel state`.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The container's id.
    pub id: String,
}

/// Prints the state as JSON.
pub fn state(root: &Root, args: StateArgs) -> Result<i32> {
    let (_, record, status) = super::load(root, &args.id)?;
    let text = serde_json::to_string_pretty(&crate::oci::state::document(&record, status))
        .expect("the state document always serializes");
    crate::cli::output::outln!("{text}");
    Ok(0)
}
