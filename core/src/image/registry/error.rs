//! How a pull or push can fail: which reference, which step, and the registry's answer.

use std::io;
use std::path::PathBuf;

/// Why a pull or push failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The reference is not `[REGISTRY/]REPOSITORY[:TAG|@DIGEST]`.
    #[error(
        "{reference:?} is not an image reference (use [REGISTRY/]REPOSITORY[:TAG], e.g. 127.0.0.1:5000/tools/busybox:1.36)"
    )]
    BadReference {
        reference: String,
        #[source]
        source: oci_client::ParseError,
    },

    /// The registry refused or failed a request.
    #[error("{reference}: {action}")]
    Request {
        reference: String,
        action: String,
        #[source]
        source: oci_client::errors::OciDistributionError,
    },

    /// A downloaded blob is not what the manifest names.
    #[error(
        "{reference}: blob {digest} downloaded as {got} ({size} bytes); the registry sent other content (the partial download was removed: pull again)"
    )]
    Mismatch {
        reference: String,
        digest: String,
        got: String,
        size: u64,
    },

    /// A local file operation failed.
    #[error("{action} {path:?}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The TLS or async machinery could not start.
    #[error("starting the registry client: {0}")]
    Client(String),
}
