//! `vessel inspect`: a container's whole record, as JSON.

use clap::Args;

use crate::error::Result;
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The container's id, id prefix or name.
    pub container: String,
}

/// Prints the record, with `observed`: its status checked against the kernel.
pub fn inspect(root: &Root, args: InspectArgs) -> Result<i32> {
    let record = StateDir::open_in(root)?.find(&args.container)?;
    let value = super::ps::Inspected::of(&record);
    let text = serde_json::to_string_pretty(&value).expect("records serialize") + "\n";
    super::output::out(&text);
    Ok(0)
}
