//! How reading, writing and mounting layers can fail. Each message names what was being
//! done and to which path; the system's reason travels in `#[source]`.

use std::io;
use std::path::PathBuf;

/// Why a layer could not be packed, unpacked, applied or mounted.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A file-system operation on a layer failed.
    #[error("{action} {path:?}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The tar file is not a readable tar archive.
    #[error("layer {tar:?} is not a valid tar archive ({what})")]
    CorruptTar {
        tar: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },

    /// An entry would write outside the layer or smuggle in something a layer may not hold.
    #[error(
        "layer {tar:?} refused: entry {entry:?} {reason}; nothing was written outside the layer directory"
    )]
    Hostile {
        tar: PathBuf,
        entry: String,
        reason: String,
    },

    /// A directory being packed holds a name OCI layers cannot carry.
    #[error("cannot pack {path:?} into a layer: {reason}")]
    Unpackable { path: PathBuf, reason: &'static str },
}

impl LayerError {
    /// Tags an I/O error with what was being done to which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> LayerError {
        let path = path.into();
        move |source| LayerError::Io {
            action,
            path,
            source,
        }
    }
}
