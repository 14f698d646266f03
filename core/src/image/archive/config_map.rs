//! An OCI (or docker) image config → vessel's image record, and back.
//!
//! Docker's config JSON is the OCI one plus fields vessel ignores, so both read as
//! `oci_spec::image::ImageConfiguration`; the `config` object and the `history` map
//! field by field onto the store's model ([`ImageConfig::from_oci`],
//! [`HistoryEntry::from_oci`], [`Image::to_oci`]).

use oci_spec::image::ImageConfiguration;

use crate::image::config::{HistoryEntry, Image, ImageConfig};
use crate::layers::Digest;

/// vessel's record of the image `name` described by `config`, with `layers` (bottom first).
pub fn image_from_oci(name: &str, config: &ImageConfiguration, layers: Vec<Digest>) -> Image {
    Image {
        name: name.to_owned(),
        layers,
        // No `config` object at all is an image that sets nothing (as `FROM scratch`).
        config: config
            .config()
            .as_ref()
            .map_or_else(ImageConfig::empty, ImageConfig::from_oci),
        created: crate::image::now(),
        history: config
            .history()
            .iter()
            .flatten()
            .map(HistoryEntry::from_oci)
            .collect(),
    }
}

/// The OCI config of `image`, whose layers' uncompressed digests are its own layer names.
pub fn oci_from_image(image: &Image) -> ImageConfiguration {
    image.to_oci()
}
