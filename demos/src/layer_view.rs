//! What the layer lessons show of an image layer: the paths inside its tar, as a learner
//! would list them with `tar -tf`.

use std::fs::File;
use std::io;
use std::path::Path;

/// The entry paths of the layer tar at `tar`, in archive order.
pub fn tar_entries(tar: &Path) -> io::Result<Vec<String>> {
    let mut archive = tar::Archive::new(File::open(tar)?);
    archive
        .entries()?
        .map(|e| e.and_then(|e| Ok(e.path()?.display().to_string())))
        .collect()
}
