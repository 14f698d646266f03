//! Images: named, ordered stacks of layers plus the config a container starts with.
//!
//! The store lives under vessel's state root (`--root`/`VESSEL_ROOT`, default
//! `/var/lib/vessel`):
//!
//! ```text
//! images/NAME.json              an image: its layers (bottom first) and config
//!                               (a `/` in NAME, as in `127.0.0.1:5000/app:1`, is `+`)
//! layers/HEX.tar                a layer as an OCI tar, named by its sha256 (its diff_id)
//! layers/HEX/                   the same layer unpacked once, in overlay's format
//! containers/ID/container.json  which image and layers a container's were made from
//! containers/ID/{init,upper,work,merged}/
//! downloads/                    blobs of a pull, until loaded (HEX.partial: resumable)
//! ```
//!
//! The default rootfs is the built-in image `base`, imported as one layer on first use.
//! Images come and go as archives ([`archive`]: `vessel load`/`save`) and through
//! registries ([`registry`]: `vessel pull`/`push`).

pub mod archive;
pub mod build;
mod change;
pub mod command;
mod commit;
mod config;
mod container_fs;
pub(crate) mod error;
pub mod init_layer;
mod maintain;
mod name;
pub mod registry;
mod store;
mod volume_seed;

pub use change::{Change, apply as apply_changes};
pub use commit::{commit, commit_with_changes};
pub use config::{HistoryEntry, Image, ImageConfig, rfc3339};
pub use container_fs::{ContainerFs, LayersOrigin};
pub use error::ImageError;
pub use maintain::Pruned;
pub use name::validate_name;
pub use store::{BASE_IMAGE, Store};

/// Seconds since the epoch, for `created` fields.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
