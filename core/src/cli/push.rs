//! `vessel push REF`: an image to a registry.

use clap::Args;

use super::output::outln;
use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image, named by where it goes: `REGISTRY/REPOSITORY[:TAG]` (name it so first
    /// with `vessel tag IMAGE REGISTRY/REPOSITORY:TAG`).
    reference: String,
}

/// Runs `vessel push`.
pub fn push(root: &Root, args: PushArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    let pushed = crate::image::registry::push(&store, &args.reference)?;
    outln!(
        "{}: {} blobs uploaded, {} already there",
        args.reference,
        pushed.uploaded,
        pushed.skipped
    );
    outln!("{}", pushed.manifest_url);
    Ok(0)
}
