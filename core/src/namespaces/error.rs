//! How giving a user namespace its ids fails: a leaf file, so that the crate error can
//! wrap it without reaching the namespace code.

use std::fmt;
use std::io;

/// Writing one of a new user namespace's `/proc/PID` files failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "write {content:?} to /proc/PID/{file} (a non-root caller may only map its own uid and gid)"
)]
pub struct IdMapError {
    /// Which file.
    pub file: IdMapFile,
    /// What was written, its lines joined by `; `.
    pub content: String,
    #[source]
    pub source: io::Error,
}

/// The `/proc/PID` files that give a user namespace its ids, in the order they are
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMapFile {
    /// `setgroups`: `deny` before an unprivileged `gid_map`.
    SetGroups,
    /// `uid_map`.
    UidMap,
    /// `gid_map`.
    GidMap,
}

impl IdMapFile {
    /// The file's name under `/proc/PID`.
    pub fn name(self) -> &'static str {
        match self {
            IdMapFile::SetGroups => "setgroups",
            IdMapFile::UidMap => "uid_map",
            IdMapFile::GidMap => "gid_map",
        }
    }
}

impl fmt::Display for IdMapFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
