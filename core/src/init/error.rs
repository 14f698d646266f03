//! How `--init` fails: its binary could not be put where containers can mount it. A
//! leaf file, so that the crate error can wrap it without reaching the init code.

use std::io;
use std::path::PathBuf;

/// Shorthand for results in init/.
pub type Result<T, E = InitError> = std::result::Result<T, E>;

/// Why `--init` could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The init binary, or its mount point in the init layer, could not be written.
    #[error(
        "--init: installing vessel-init at {path:?} (is vessel's state root writable? see --root)"
    )]
    Binary {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
