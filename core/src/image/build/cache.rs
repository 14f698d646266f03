//! The build cache: a step whose inputs were seen before reuses what it made then.
//!
//! Each step's key is the sha256 of its parent's key, the instruction with its
//! variables expanded (and, for RUN, the build args in its environment), and, for COPY
//! and ADD, the content digest of what it copies ([`super::context::Context::digest`]).
//! A key names a record under `build-cache/` in the store: the layer the step added, if
//! any, and the config and history after it. A record whose layer has been removed from
//! the store since is a miss.

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::error::BuildError;
use crate::image::{HistoryEntry, ImageConfig, Store};
use crate::layers::Digest;

/// What a step made, as the cache keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Cached {
    /// The layer it added, if it changed files.
    pub layer: Option<Digest>,
    /// The config after it.
    pub config: ImageConfig,
    /// Its history entry.
    pub history: HistoryEntry,
}

// ANCHOR: cache_key
/// The key of a step: its parent's key, what it does, and what it copies.
pub fn key(parent: &str, instruction: &str, content: &str) -> String {
    let mut hash = Sha256::new();
    for part in [parent, instruction, content] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("{:x}", hash.finalize())
}
// ANCHOR_END: cache_key

/// The build cache of one store.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    store: Store,
}

impl Cache {
    /// The cache under `store`.
    pub fn open(store: &Store) -> Result<Cache, BuildError> {
        let dir = store.root().join("build-cache");
        std::fs::create_dir_all(&dir).map_err(|source| BuildError::Cache {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        Ok(Cache {
            dir,
            store: store.clone(),
        })
    }

    /// What step `key` made, if it is cached and its layer is still stored.
    pub fn get(&self, key: &str) -> Option<Cached> {
        let text = std::fs::read(self.dir.join(format!("{key}.json"))).ok()?;
        let cached: Cached = serde_json::from_slice(&text).ok()?;
        match &cached.layer {
            Some(layer) if !self.store.layer_dir(layer).is_dir() => None,
            _ => Some(cached),
        }
    }

    /// Records what step `key` made.
    pub fn put(&self, key: &str, cached: &Cached) -> Result<(), BuildError> {
        let path = self.dir.join(format!("{key}.json"));
        crate::image::store::write_json(&path, cached).map_err(BuildError::from)
    }
}
