//! `vessel commit CONTAINER NAME`: a container's writable layer becomes a new image.

use clap::Args;

use crate::error::Result;
use crate::image::{self, Store};

/// Arguments of `vessel commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// The container's id, a unique prefix of it, or its --name.
    pub container: String,
    /// The new image's name.
    pub name: String,
}

/// Packs the container's upper layer and saves the image; prints the new layer's digest.
pub fn commit(args: CommitArgs) -> Result<i32> {
    let store = Store::open_default()?;
    let id = super::container::resolve(&store, &args.container)?;
    let (image, summary) = image::commit(&store, &id, &args.name)?;
    for path in &summary.skipped {
        eprintln!(
            "vessel: left out /{} (device nodes and sockets cannot be in a layer)",
            path.display()
        );
    }
    println!(
        "{}",
        image
            .layers
            .last()
            .expect("a committed image has its new layer")
    );
    Ok(0)
}
