//! `vessel commit`: a container's changes become a new layer on top of its image.

use super::change::{Change, apply};
use super::config::{HistoryEntry, Image};
use super::error::ImageError;
use super::name::validate_name;
use super::store::Store;
use crate::layers::{PackSummary, SourceKind};
use crate::state::ContainerId;

// ANCHOR: commit
/// Packs container `id`'s upper layer (never its init layer) as an OCI layer and saves
/// the image `name`: the container's image layers plus that one, with the same config.
pub fn commit(
    store: &Store,
    id: &ContainerId,
    name: &str,
) -> Result<(Image, PackSummary), ImageError> {
    commit_with_changes(store, id, name, &[])
}
// ANCHOR_END: commit

/// [`commit`], with `--change` instructions applied to the new image's config.
pub fn commit_with_changes(
    store: &Store,
    id: &ContainerId,
    name: &str,
    changes: &[Change],
) -> Result<(Image, PackSummary), ImageError> {
    validate_name(name)?;
    let origin = store.container(id)?;
    let _lock = store.lock()?;
    let upper = store.container_dir(id).upper();
    let (digest, summary) = store.pack_layer(&upper, SourceKind::Overlay)?;
    let mut config = origin.config;
    apply(&mut config, changes);
    // An origin older than history lists no step for its layers: fill those in first.
    let mut history = Image::history_covering(origin.history, &origin.layers);
    history.push(HistoryEntry::layer(format!(
        "vessel commit {} ({})",
        origin.id,
        origin.command.join(" ")
    )));
    let mut layers = origin.layers;
    layers.push(digest);
    let image = Image {
        name: name.to_owned(),
        layers,
        config,
        created: super::now(),
        history,
    };
    store.save(&image)?;
    Ok((image, summary))
}
