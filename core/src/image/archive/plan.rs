//! What an archive says to load, before anything is written: for each image its names,
//! its config and where each layer's blob is, with what it must hash to.

use oci_spec::image::ImageConfiguration;

use super::blob::Expected;
use super::error::ArchiveError;
use super::source::Source;
use crate::layers::Digest;

/// One image of an archive.
#[derive(Debug)]
pub struct ImagePlan {
    /// The names it is stored under (none: named by its config digest).
    pub names: Vec<String>,
    /// Its config, already checked against its digest.
    pub config: ImageConfiguration,
    /// The config's digest (the image's id).
    pub config_digest: Digest,
    /// Its layers, bottom first.
    pub layers: Vec<LayerPlan>,
}

/// One layer blob of an image.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    /// The blob's file in the archive.
    pub name: String,
    /// What the blob must hash to, when the manifest says.
    pub expect: Option<Expected>,
    /// What the uncompressed tar must hash to: the config's diff_id, and the layer's
    /// name in the store.
    pub diff_id: Digest,
}

/// The diff_ids of `config`, one per layer blob in `blobs`, as store digests.
pub fn diff_ids(
    source: &Source,
    config_name: &str,
    config: &ImageConfiguration,
    blobs: usize,
) -> Result<Vec<Digest>, ArchiveError> {
    let ids = config.rootfs().diff_ids();
    if ids.len() != blobs {
        return Err(ArchiveError::Mismatch {
            archive: source.path().to_owned(),
            name: config_name.to_owned(),
            problem: format!(
                "lists {} diff_ids, but the manifest has {blobs} layers",
                ids.len()
            ),
        });
    }
    ids.iter()
        .map(|id| {
            Digest::parse(id).ok_or_else(|| ArchiveError::Unsupported {
                archive: source.path().to_owned(),
                what: format!(
                    "{config_name:?} has the diff_id {id:?}, which is not a sha256 digest"
                ),
            })
        })
        .collect()
}

/// The store name for a reference an archive gives: docker's implied `docker.io/library/`
/// is dropped, so `docker save busybox` loads as `busybox:latest`.
pub fn store_name(reference: &str) -> String {
    let short = reference
        .strip_prefix("docker.io/library/")
        .or_else(|| reference.strip_prefix("docker.io/"))
        .unwrap_or(reference);
    short.to_owned()
}
