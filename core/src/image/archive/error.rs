//! How reading an image archive (docker-archive, OCI layout) can fail. Each message names
//! the archive and the file or blob at fault; nothing is left in the store after any.

use std::io;
use std::path::PathBuf;

/// Why an archive could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive could not be read at all.
    #[error("{archive:?}: {action}")]
    Io {
        archive: PathBuf,
        action: String,
        #[source]
        source: io::Error,
    },

    /// The archive is a tar that cannot be read safely.
    #[error("{archive:?} cannot be read as a tar archive")]
    Tar {
        archive: PathBuf,
        #[source]
        source: crate::layers::LayerError,
    },

    /// Neither a docker-archive (manifest.json) nor an OCI layout (oci-layout, index.json).
    #[error(
        "{0:?} is neither a docker-archive (it has no manifest.json) nor an OCI image layout (no oci-layout and index.json); for a plain file tree or one layer tar use `vessel image import`"
    )]
    UnknownFormat(PathBuf),

    /// A file the archive names is not in it.
    #[error("{archive:?}: {name:?} is missing from the archive")]
    Missing { archive: PathBuf, name: String },

    /// A name in a manifest points outside the archive.
    #[error(
        "{archive:?}: {name:?} points outside the archive ({reason}); refused, nothing was loaded"
    )]
    Outside {
        archive: PathBuf,
        name: String,
        reason: &'static str,
    },

    /// A manifest, index or config is larger than any real one.
    #[error(
        "{archive:?}: {name:?} is {size} bytes, more than the {max} accepted for a JSON document"
    )]
    TooLarge {
        archive: PathBuf,
        name: String,
        size: u64,
        max: u64,
    },

    /// A JSON document is not what its place requires.
    #[error("{archive:?}: {name:?} is not a valid {what}")]
    BadJson {
        archive: PathBuf,
        name: String,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// A blob's content does not match its digest or size.
    #[error("{archive:?}: blob {name:?} {problem}; the archive is corrupt or was tampered with")]
    Mismatch {
        archive: PathBuf,
        name: String,
        problem: String,
    },

    /// Something the archive asks for that vessel does not do.
    #[error("{archive:?}: {what}")]
    Unsupported { archive: PathBuf, what: String },

    /// The archive holds no image.
    #[error("{0:?} holds no image (its index or manifest.json lists none)")]
    Empty(PathBuf),
}
