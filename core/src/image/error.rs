//! How image and container-layer operations fail, each saying what to do next.

use std::io;
use std::path::PathBuf;

use crate::layers::LayerError;

/// Why an image or a container's layers could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Reading or writing a layer failed.
    #[error(transparent)]
    Layer(#[from] LayerError),

    /// An image archive could not be loaded or saved.
    #[error(transparent)]
    Archive(#[from] super::archive::error::ArchiveError),

    /// A registry pull or push failed.
    #[error(transparent)]
    Registry(#[from] super::registry::RegistryError),

    /// A file operation in the store failed.
    #[error("image store: {action} {path:?}")]
    Store {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A stored record could not be read.
    #[error("image store: {path:?} is not a valid record (remove it, or re-import the image)")]
    BadRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// No image has this name.
    #[error(
        "image {0:?} not found (list images with `vessel images`; get one with `vessel pull REF`, `vessel load -i FILE` or `vessel image import DIR|TAR NAME`)"
    )]
    NotFound(String),

    /// The name is not usable.
    #[error(
        "image name {name:?}: {reason} (use letters, digits, '.', '_', '-' and ':', starting with a letter or digit)"
    )]
    InvalidName { name: String, reason: &'static str },

    /// `image rm` of an image a container still uses.
    #[error(
        "image {image:?} is used by container {container} (remove the container first: `vessel container rm {container}`)"
    )]
    InUse { image: String, container: String },

    /// `image import` of something that is neither a directory nor a file.
    #[error("image import: {0:?} is neither a directory nor a tar file")]
    BadSource(PathBuf),

    /// The tar to import holds no entry at all (an empty or all-zero file).
    #[error("image import: {0:?} has no files (an empty or all-zero tar is no image)")]
    NoFiles(PathBuf),

    /// The image would stack more layers than overlayfs can.
    #[error(
        "image {name:?} would have {count} layers, but overlayfs stacks at most {max} read-only layers (flatten it by importing a container's merged tree)"
    )]
    TooManyLayers {
        name: String,
        count: usize,
        max: usize,
    },

    /// The container has no layers in the store: it ran on a `--rootfs` directory, or
    /// they were removed.
    #[error(
        "container {0} has no layers in the image store (list those that have with `vessel container ls`)"
    )]
    NoLayers(crate::state::ContainerId),

    /// The container is still running.
    #[error("container {0} is still running (wait for it to exit, then try again)")]
    ContainerRunning(String),

    /// A `--change` instruction vessel cannot apply.
    #[error(
        "--change {change:?}: {reason} (use CMD, ENTRYPOINT, ENV or WORKDIR, e.g. --change 'CMD [\"sh\", \"-c\", \"echo hi\"]')"
    )]
    BadChange { change: String, reason: String },

    /// Building the default rootfs for the base image failed.
    #[error("importing the default rootfs as the base image")]
    Base(#[source] crate::rootfs::error::RootfsBuildError),
}

impl ImageError {
    /// Tags an I/O error with what was being done to which path.
    pub(crate) fn store(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Store {
            action,
            path,
            source,
        }
    }
}
