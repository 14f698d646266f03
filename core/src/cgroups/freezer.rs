//! Freezing a container someone else started, by the cgroup directories its record
//! names: `vessel commit` freezes a running container while it packs the writable
//! layer, as docker pauses it, so nothing in the layer changes under the packer.
//!
//! The directory with `freezer.state` (v1's freezer hierarchy) or `cgroup.freeze` (v2)
//! is the one that freezes; [`Frozen`] thaws it again when dropped, on every path out.

use std::path::{Path, PathBuf};

use super::error::Result;
use super::files;

/// A frozen cgroup, thawed when dropped.
#[derive(Debug)]
pub struct Frozen {
    dir: PathBuf,
    v2: bool,
    thawed: bool,
}

impl Frozen {
    /// Freezes the cgroup among `dirs` that has a freezer, and waits until every process
    /// in it has stopped. `None` when none of them has one (no cgroup, or v1 without
    /// the freezer hierarchy).
    pub fn freeze(dirs: &[PathBuf]) -> Result<Option<Frozen>> {
        let Some((dir, v2)) = dirs.iter().find_map(|dir| freezer_of(dir)) else {
            return Ok(None);
        };
        let frozen = Frozen {
            dir,
            v2,
            thawed: false,
        };
        // A failure (the wait timing out) drops `frozen`, which thaws what froze.
        frozen.set(true)?;
        Ok(Some(frozen))
    }

    /// Leaves the cgroup frozen after this value is gone (`vessel pause`).
    pub fn keep_frozen(mut self) {
        self.thawed = true;
    }

    /// Thaws the cgroup among `dirs` that has a freezer, frozen by an earlier
    /// [`Frozen::keep_frozen`] (`vessel resume`). `false` when none has a freezer.
    pub fn thaw_dirs(dirs: &[PathBuf]) -> Result<bool> {
        let Some((dir, v2)) = dirs.iter().find_map(|dir| freezer_of(dir)) else {
            return Ok(false);
        };
        Frozen {
            dir,
            v2,
            thawed: false,
        }
        .thaw()?;
        Ok(true)
    }

    /// The cgroup directory that was frozen.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Thaws now, reporting failure (dropping thaws too, silently).
    pub fn thaw(mut self) -> Result<()> {
        self.thawed = true;
        self.set(false)
    }

    // ANCHOR: freeze
    fn set(&self, frozen: bool) -> Result<()> {
        if self.v2 {
            let want = if frozen { "1" } else { "0" };
            files::write(&self.dir.join("cgroup.freeze"), want)?;
            files::wait_for_state(&self.dir.join("cgroup.events"), |text| {
                files::keyed(text, "frozen").to_string() == want
            })
        } else {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            let state = self.dir.join("freezer.state");
            files::write(&state, want)?;
            files::wait_for_state(&state, |text| text.trim() == want)
        }
    }
    // ANCHOR_END: freeze
}

impl Drop for Frozen {
    fn drop(&mut self) {
        if !self.thawed {
            self.thawed = true;
            let _ = self.set(false);
        }
    }
}

/// `dir` and whether it is v2, if it is a cgroup directory that can be frozen.
fn freezer_of(dir: &Path) -> Option<(PathBuf, bool)> {
    if dir.join("cgroup.freeze").is_file() {
        Some((dir.to_owned(), true))
    } else if dir.join("freezer.state").is_file() {
        Some((dir.to_owned(), false))
    } else {
        None
    }
}
