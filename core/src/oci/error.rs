//! How reading a bundle, or the state of a container `vessel create` made, fails. A
//! leaf: the crate error wraps these, so this file imports nothing of the crate but the
//! id (itself a leaf); a hook's failure travels boxed, for the same reason.

use std::io;
use std::path::PathBuf;

use crate::state::ContainerId;

/// Why a bundle cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `config.json` is missing or not valid OCI runtime configuration.
    #[error("read config.json (check the bundle holds an OCI runtime config)")]
    Config(#[source] oci_spec::OciSpecError),
    /// A required field is absent.
    #[error("config.json has no {0}")]
    Missing(&'static str),
    /// A field vessel does not support has a value it cannot honour.
    #[error("{field}: {why}")]
    Unsupported { field: String, why: String },
    /// A lifecycle hook failed; the container was stopped (or never started). The cause
    /// is a [`HookError`](super::HookError).
    #[error(transparent)]
    Hook(Box<dyn std::error::Error + Send + Sync>),
}

/// A field vessel refuses, and why.
pub(crate) fn unsupported(field: impl Into<String>, why: impl Into<String>) -> BundleError {
    BundleError::Unsupported {
        field: field.into(),
        why: why.into(),
    }
}

/// Why the OCI state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OciStateError {
    /// No container has this id.
    #[error("container \"{0}\" does not exist (`vessel list` shows the ones that do)")]
    NotFound(ContainerId),
    /// A container with this id exists already.
    #[error("container \"{0}\" exists already (delete it first, or choose another id)")]
    Exists(ContainerId),
    /// A file of the state could not be read or written.
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
