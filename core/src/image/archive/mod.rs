//! Image archives in and out: `vessel load` reads a docker-archive or an OCI image
//! layout (a directory or a tar, layers plain, gzip or zstd); `vessel save` writes an OCI
//! layout tar that podman, skopeo and docker load.
//!
//! An archive is untrusted input. Loading is two passes: [`plan`] reads only the small
//! JSON documents (each size-capped and checked against its digest) and decides what
//! to copy; [`import`] then copies each layer once, checking its digest, size and
//! uncompressed digest, and unpacks it with the same hostile-tar rules as every layer.
//! A failure anywhere leaves the store as it was.

mod blob;
mod config_map;
mod docker;
pub(crate) mod error;
mod import;
mod oci_layout;
mod plan;
mod save;
mod source;

use std::path::Path;

pub(crate) use config_map::oci_from_image;
pub use error::ArchiveError;
pub(crate) use import::import;
pub(crate) use oci_layout::image_plan;
pub(crate) use plan::store_name;
pub use save::save;
pub(crate) use source::Source;

use super::config::Image;
use super::error::ImageError;
use super::store::Store;

// ANCHOR: load
/// Loads every image of the archive at `path` (a docker-archive or an OCI layout, as a
/// directory or a tar) into `store`, and returns them.
pub fn load(store: &Store, path: &Path) -> Result<Vec<Image>, ImageError> {
    let source = Source::open(path)?;
    // docker 25 writes both formats in one tar; the OCI index is the one with digests.
    let plans = if oci_layout::detect(&source) {
        oci_layout::plan(&source)?
    } else if docker::detect(&source) {
        docker::plan(&source)?
    } else {
        return Err(ArchiveError::UnknownFormat(path.to_owned()).into());
    };
    let _lock = store.lock()?;
    import(store, &source, &plans)
}
// ANCHOR_END: load
