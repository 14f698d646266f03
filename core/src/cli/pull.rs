//! `vessel pull REF`: an image from a registry.

use clap::Args;

use super::output::outln;
use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// `[REGISTRY/]REPOSITORY[:TAG|@DIGEST]`; a registry on 127.0.0.1, localhost or ::1
    /// is spoken to over plain HTTP, any other over HTTPS checked with the system's CAs.
    reference: String,
}

/// Runs `vessel pull`.
pub fn pull(root: &Root, args: PullArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    let pulled = crate::image::registry::pull(&store, &args.reference)?;
    outln!(
        "{}: {} layers downloaded, {} already present",
        pulled.image.name,
        pulled.downloaded,
        pulled.reused
    );
    outln!("Digest: {}", pulled.manifest_digest);
    Ok(0)
}
