//! Applying OCI layers in order to a plain directory, as a registry client would.
//!
//! Each layer is applied in two passes: first its whiteouts delete what they name from the
//! layers below (an opaque marker empties its directory), then its ordinary entries are
//! written. Two passes because an opaque directory's own entries in the same layer must
//! survive the marker, wherever the marker sits in the tar.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::error::LayerError;
use super::hostile::{Guard, remove_any};
use super::unpack::{Whiteouts, extract};
use super::whiteout;

/// Applies the layer tars `layers` (bottom first) to the directory `dest`.
pub fn flatten(layers: &[PathBuf], dest: &Path) -> Result<(), LayerError> {
    for layer in layers {
        apply_layer(layer, dest)?;
    }
    Ok(())
}

/// Applies one layer tar on top of what is already in `dest`.
pub fn apply_layer(tar: &Path, dest: &Path) -> Result<(), LayerError> {
    apply_whiteouts(tar, dest)?;
    extract(tar, dest, Whiteouts::Skip)
}

fn apply_whiteouts(tar: &Path, root: &Path) -> Result<(), LayerError> {
    let guard = Guard { tar, root };
    guard.prescan()?;
    let file = File::open(tar).map_err(LayerError::io("open layer", tar))?;
    let mut archive = tar::Archive::new(file);
    let corrupt = |what| {
        let tar = tar.to_owned();
        move |source| LayerError::CorruptTar { tar, what, source }
    };
    for entry in archive
        .entries_with_seek()
        .map_err(corrupt("cannot read the first header"))?
    {
        let entry = entry.map_err(corrupt("bad entry header"))?;
        let Some(rel) = guard.entry_path(&entry.path_bytes())? else {
            continue;
        };
        let name = rel.file_name().map_or(&[][..], OsStr::as_bytes);
        let Some(target) = std::str::from_utf8(name)
            .ok()
            .and_then(whiteout::oci_whiteout_target)
        else {
            continue;
        };
        if !guard.ensure_parent(&rel, false)? {
            continue; // nothing below to delete
        }
        let dir = root.join(rel.parent().unwrap_or(Path::new("")));
        match target {
            None => {
                for child in fs::read_dir(&dir).map_err(LayerError::io("read directory", &dir))? {
                    let child = child
                        .map_err(LayerError::io("read directory", &dir))?
                        .path();
                    remove_any(&child).map_err(LayerError::io("remove", &child))?;
                }
            }
            Some(name) if name.is_empty() || name == "." || name == ".." => {
                return Err(guard.hostile(name, "is a whiteout with no valid name to delete"));
            }
            Some(name) => {
                let path = dir.join(name);
                remove_any(&path).map_err(LayerError::io("remove", &path))?;
            }
        }
    }
    Ok(())
}
