//! `vessel save -o FILE IMAGE…`: images as one OCI image layout tar.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The tar to write (replaced only once complete).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// The images to put in it.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

/// Runs `vessel save`.
pub fn save(root: &Root, args: SaveArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    crate::image::archive::save(&store, &args.images, &args.output)?;
    Ok(0)
}
