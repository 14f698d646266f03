//! `vessel tag SOURCE TARGET`: another name for an image.

use clap::Args;

use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to name.
    source: String,
    /// Its new name, e.g. 127.0.0.1:5000/tools/app:1.0 before `vessel push`.
    target: String,
}

/// Runs `vessel tag`.
pub fn tag(root: &Root, args: TagArgs) -> Result<i32> {
    Store::open_in(root)?.tag(&args.source, &args.target)?;
    Ok(0)
}
