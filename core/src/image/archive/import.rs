//! Planned images into the store, all or nothing.
//!
//! Layers are staged beside the store's layers, checked (digest, size, diff_id), then
//! moved to their content address and unpacked with the hostile-tar rules of
//! [`crate::layers`]. A layer already in the store is not read again: its name is the
//! digest of its content, which the (checked) config names. Records are written last.
//! If anything fails, every layer and record this load added is removed again, so the
//! store is as it was.

use std::path::PathBuf;

use super::blob::stage_layer;
use super::config_map::image_from_oci;
use super::plan::ImagePlan;
use super::source::Source;
use crate::image::config::Image;
use crate::image::error::ImageError;
use crate::image::name::validate_name;
use crate::image::store::Store;
use crate::layers::{Digest, remove_any};

/// Stores the images of `plans`, read from `source`. Call with the store's lock held.
pub fn import(
    store: &Store,
    source: &Source,
    plans: &[ImagePlan],
) -> Result<Vec<Image>, ImageError> {
    let mut added = Added::default();
    let result = import_all(store, source, plans, &mut added);
    if result.is_err() {
        added.undo(store);
    }
    result
}

/// What one load added to the store, to be removed if it fails.
#[derive(Debug, Default)]
struct Added {
    layers: Vec<Digest>,
    records: Vec<PathBuf>,
}

impl Added {
    fn undo(&self, store: &Store) {
        for digest in &self.layers {
            let _ = remove_any(&store.layer_tar(digest));
            let _ = remove_any(&store.layer_dir(digest));
        }
        for record in &self.records {
            let _ = remove_any(record);
        }
    }
}

fn import_all(
    store: &Store,
    source: &Source,
    plans: &[ImagePlan],
    added: &mut Added,
) -> Result<Vec<Image>, ImageError> {
    // Names first: a bad name must not cost a layer copy.
    let names: Vec<Vec<String>> = plans
        .iter()
        .map(|plan| {
            let names = if plan.names.is_empty() {
                // Unnamed, as `docker load` of an untagged image: its id's first digits.
                vec![plan.config_digest.short().to_owned()]
            } else {
                plan.names.clone()
            };
            names.iter().try_for_each(|n| validate_name(n))?;
            Ok::<_, ImageError>(names)
        })
        .collect::<Result<_, _>>()?;
    for (n, layer) in plans.iter().flat_map(|p| &p.layers).enumerate() {
        let in_store =
            store.layer_tar(&layer.diff_id).is_file() && store.layer_dir(&layer.diff_id).is_dir();
        if in_store || added.layers.contains(&layer.diff_id) {
            continue;
        }
        let had_tar = store.layer_tar(&layer.diff_id).is_file();
        let staging = store
            .layers_dir()
            .join(format!("importing-{}-{n}.tar", std::process::id()));
        stage_layer(
            source,
            &layer.name,
            layer.expect.as_ref(),
            &layer.diff_id,
            &staging,
        )?;
        if !had_tar {
            added.layers.push(layer.diff_id.clone());
        }
        store.add_layer(&staging, &layer.diff_id)?;
    }
    let mut images = Vec::new();
    for (plan, names) in plans.iter().zip(names) {
        let digests: Vec<Digest> = plan.layers.iter().map(|l| l.diff_id.clone()).collect();
        for name in names {
            let image = image_from_oci(&name, &plan.config, digests.clone());
            let existed = store.has_image(&name);
            store.save(&image)?;
            if !existed {
                added.records.push(store.image_path(&name));
            }
            images.push(image);
        }
    }
    Ok(images)
}
