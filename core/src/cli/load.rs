//! `vessel load -i FILE`: images from a docker-archive or an OCI image layout.

use std::path::PathBuf;

use clap::Args;

use super::output::outln;
use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// A docker-archive (`docker save`, `podman save`) or an OCI image layout, as a
    /// directory or a tar; layers may be plain, gzip or zstd.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: PathBuf,
}

/// Runs `vessel load`.
pub fn load(root: &Root, args: LoadArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    for image in crate::image::archive::load(&store, &args.input)? {
        outln!("Loaded image: {}", image.name);
    }
    Ok(0)
}
