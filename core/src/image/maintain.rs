//! `vessel tag` and `vessel image prune`: names and space in the store.

use std::fs;

use super::config::Image;
use super::error::ImageError;
use super::name::validate_name;
use super::store::Store;
use crate::layers::{Digest, remove_any};

/// What `image prune` removed.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Images removed (with `all`: those no container uses).
    pub images: Vec<String>,
    /// Layers no image or container referred to.
    pub layers: Vec<Digest>,
    /// Downloads left by interrupted or failed pulls.
    pub downloads: usize,
}

impl Store {
    /// Gives the image `source` the further name `target` (replacing an image of that
    /// name); both names share the layers.
    pub fn tag(&self, source: &str, target: &str) -> Result<Image, ImageError> {
        validate_name(target)?;
        let mut image = self.image(source)?;
        image.name = target.to_owned();
        let _lock = self.lock()?;
        self.save(&image)?;
        Ok(image)
    }

    // ANCHOR: prune
    /// Removes unfinished downloads and layers nothing refers to; with `all`, first every
    /// image no container (running or kept) was made from.
    pub fn prune(&self, all: bool) -> Result<Pruned, ImageError> {
        let _lock = self.lock()?;
        let mut pruned = Pruned::default();
        if all {
            let used: Vec<String> = self.containers()?.into_iter().map(|c| c.image).collect();
            for image in self.images()? {
                if !used.contains(&image.name) {
                    let path = self.image_path(&image.name);
                    fs::remove_file(&path).map_err(ImageError::store("remove", &path))?;
                    pruned.images.push(image.name);
                }
            }
        }
        let downloads = super::registry::downloads_dir(self);
        if let Ok(entries) = fs::read_dir(downloads.join("blobs/sha256")) {
            pruned.downloads += entries.count();
        }
        if let Ok(entries) = fs::read_dir(&downloads) {
            pruned.downloads += entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                .count();
        }
        remove_any(&downloads).map_err(ImageError::store("remove", &downloads))?;
        pruned.layers = self.collect_garbage()?;
        Ok(pruned)
    }
    // ANCHOR_END: prune
}
