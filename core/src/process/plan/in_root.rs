//! Paths inside the container, prepared for the child's in-root resolution: each prefix
//! and each component as its own C string, so the child walks them without allocating.

use std::path::{Component, Path};

use super::cstring::cstring;
use super::step::{FdSlot, InRootPath};
use crate::process::error::Result;

/// `rel` (relative to the descriptor in `base`, whose host path is `base_path`), ready for
/// the child. `..` and `.` components are dropped: the plan only names paths downwards.
pub(crate) fn in_root(base: FdSlot, base_path: &Path, rel: &Path) -> Result<InRootPath> {
    let mut prefixes = Vec::new();
    let mut names = Vec::new();
    let mut prefix = std::path::PathBuf::new();
    for component in rel.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        prefix.push(name);
        prefixes.push(cstring("path in the container", &prefix)?);
        names.push(cstring("path in the container", name)?);
    }
    Ok(InRootPath {
        base,
        prefixes,
        names,
        shown: cstring("path in the container", base_path.join(&prefix))?,
    })
}

/// A path relative to the container's root.
pub(crate) fn below_root(root: &Path, rel: impl AsRef<Path>) -> Result<InRootPath> {
    in_root(FdSlot::Root, root, rel.as_ref())
}

/// A name in the container's fresh `/dev`.
pub(crate) fn in_dev(root: &Path, name: &str) -> Result<InRootPath> {
    in_root(FdSlot::Dev, &root.join("dev"), Path::new(name))
}

/// A C string option value (`mode=755` → `("mode", "755")`).
pub(crate) fn value(key: &str, value: &str) -> Result<super::step::FsOption> {
    Ok(super::step::FsOption::Value(
        cstring("mount option", key)?,
        cstring("mount option", value)?,
    ))
}

/// A flag option (`newinstance`).
pub(crate) fn flag(key: &str) -> Result<super::step::FsOption> {
    Ok(super::step::FsOption::Flag(cstring("mount option", key)?))
}
