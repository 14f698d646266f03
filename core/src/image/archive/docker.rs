//! The docker-archive (`docker save`, `podman save`): `manifest.json` lists each image's
//! config file, its tags and its layer tars, bottom first.
//!
//! `manifest.json` carries no digests, so what binds the files together is the config:
//! its name is its own digest (`HEX.json`, or `blobs/sha256/HEX` since docker 25), which
//! is checked, and its `diff_ids` name every layer's uncompressed content, which is
//! checked while the layer is copied.

use oci_spec::image::ImageConfiguration;

use super::blob::{Expected, read_json};
use super::error::ArchiveError;
use super::plan::{ImagePlan, LayerPlan, diff_ids, store_name};
use super::source::Source;
use crate::layers::Digest;

/// One entry of `manifest.json` (docker's own format: oci-spec has no type for it).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Whether `source` looks like a docker-archive.
pub fn detect(source: &Source) -> bool {
    source.has("manifest.json")
}

/// The images of the archive.
pub fn plan(source: &Source) -> Result<Vec<ImagePlan>, ArchiveError> {
    let (entries, _): (Vec<Entry>, _) = read_json(
        source,
        "manifest.json",
        None,
        "docker-archive manifest.json",
    )?;
    if entries.is_empty() {
        return Err(ArchiveError::Empty(source.path().to_owned()));
    }
    entries
        .iter()
        .map(|entry| image_plan(source, entry))
        .collect()
}

fn image_plan(source: &Source, entry: &Entry) -> Result<ImagePlan, ArchiveError> {
    let config_expect = digest_in_name(&entry.config).map(|digest| Expected { digest, size: None });
    let (config, bytes): (ImageConfiguration, _) = read_json(
        source,
        &entry.config,
        config_expect.as_ref(),
        "image config",
    )?;
    let config_digest =
        Digest::of_reader(&bytes[..]).map_err(|e| source.io("hash the config".into(), e))?;
    let ids = diff_ids(source, &entry.config, &config, entry.layers.len())?;
    let layers = entry
        .layers
        .iter()
        .zip(ids)
        .map(|(name, diff_id)| LayerPlan {
            name: name.clone(),
            // docker 25 names layers by their blob digest; older ones by a v1 id.
            expect: blob_digest_in_name(name).map(|digest| Expected { digest, size: None }),
            diff_id,
        })
        .collect();
    Ok(ImagePlan {
        names: entry
            .repo_tags
            .iter()
            .flatten()
            .map(|tag| store_name(tag))
            .collect(),
        config,
        config_digest,
        layers,
    })
}

/// `HEX.json` or `blobs/sha256/HEX`: the config's own digest.
fn digest_in_name(name: &str) -> Option<Digest> {
    name.strip_suffix(".json")
        .and_then(Digest::parse)
        .or_else(|| blob_digest_in_name(name))
}

fn blob_digest_in_name(name: &str) -> Option<Digest> {
    name.strip_prefix("blobs/sha256/").and_then(Digest::parse)
}
