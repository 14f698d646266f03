//! The default root filesystem: built on first use with no network, then cached.
//!
//! If the host has a static busybox (Debian's `busybox-static`), the rootfs is that one
//! binary plus a symlink per applet: about 2 MB, and nothing in it depends on the host.
//! Otherwise it is assembled from the host's own binaries and the shared libraries `ldd`
//! says they need. Either way it is built in a scratch directory next to the cache and
//! renamed into place, so a half-built rootfs is never used.

mod busybox;
mod elf;
pub(crate) mod error;
mod host;
mod install;
pub mod mount_api;
mod skeleton;
pub mod tmpfs;
pub mod volume;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

pub use elf::is_static_executable;
pub use install::install_binary;

use crate::state::Root;
pub use error::{BuildCause, BuildStep, MountSpecError, RootfsBuildError};

/// The directories of a root filesystem that hold its commands, as the search path used
/// when the caller's environment sets no `PATH` (docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Bump when the layout of the built rootfs changes, so old caches are rebuilt.
const LAYOUT_VERSION: u32 = 1;

/// vessel's state directory: `$VESSEL_ROOT`, or the default ([`Root::from_env`]).
pub fn state_root() -> PathBuf {
    Root::from_env().dir().to_owned()
}

/// Where the default rootfs lives (it may not be built yet).
pub fn default_rootfs_dir() -> PathBuf {
    default_rootfs_dir_in(&state_root())
}

/// Where the default rootfs lives under the state root `root`.
pub fn default_rootfs_dir_in(root: &Path) -> PathBuf {
    root.join("rootfs")
        .join(format!("default-v{LAYOUT_VERSION}"))
}

/// How a default rootfs was (or would be) built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// From this static busybox binary.
    Busybox(PathBuf),
    /// From the host's binaries and their libraries.
    HostBinaries,
}

/// Returns the default rootfs, building it first if it is not there yet.
pub fn default_rootfs() -> Result<PathBuf, RootfsBuildError> {
    default_rootfs_in(&state_root())
}

/// [`default_rootfs`] under the state root `root`.
pub fn default_rootfs_in(root: &Path) -> Result<PathBuf, RootfsBuildError> {
    let dir = default_rootfs_dir_in(root);
    ensure_built(&dir)?;
    Ok(dir)
}

/// What the default rootfs is built from on this host.
pub fn source() -> Source {
    busybox::find_static().map_or(Source::HostBinaries, Source::Busybox)
}

/// Builds the rootfs at `dir` unless a complete one is there. Safe to call from several
/// processes and threads at once: one builds, the others wait on a lock and reuse it.
pub fn ensure_built(dir: &Path) -> Result<(), RootfsBuildError> {
    let complete = dir.join(skeleton::COMPLETE_MARKER);
    if complete.exists() {
        return Ok(());
    }
    let fail = |step: BuildStep| {
        let dir = dir.to_owned();
        move |source: io::Error| {
            let cause = BuildCause::Io(source);
            RootfsBuildError { dir, step, cause }
        }
    };
    let parent = dir.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(parent).map_err(fail(BuildStep::CreateParent))?;
    let lock = File::create(dir.with_extension("lock")).map_err(fail(BuildStep::CreateLock))?;
    lock.lock().map_err(fail(BuildStep::LockBuild))?;
    if complete.exists() {
        return Ok(()); // another process built it while we waited
    }
    let scratch = dir.with_extension("building");
    if scratch.exists() {
        fs::remove_dir_all(&scratch).map_err(fail(BuildStep::RemoveUnfinished))?;
    }
    build(&scratch).map_err(|(step, cause)| RootfsBuildError {
        dir: dir.to_owned(),
        step,
        cause,
    })?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(fail(BuildStep::RemoveIncomplete))?;
    }
    fs::rename(&scratch, dir).map_err(fail(BuildStep::MoveIntoPlace))?;
    Ok(())
}

/// An error while building, with the step it happened in.
pub type BuildResult<T = ()> = std::result::Result<T, (BuildStep, BuildCause)>;

/// Tags an I/O error with the build step it happened in.
pub(crate) fn at<T>(step: BuildStep, r: io::Result<T>) -> BuildResult<T> {
    r.map_err(|e| (step, BuildCause::Io(e)))
}

fn build(dir: &Path) -> BuildResult {
    build_from(dir, &source())
}

/// Builds a rootfs at `dir` (a new, empty directory) from `source`, whatever this host
/// would choose by itself. Lets the tests exercise both ways on one machine.
pub fn build_from(dir: &Path, source: &Source) -> BuildResult {
    skeleton::create(dir)?;
    match source {
        Source::Busybox(busybox) => busybox::populate(dir, busybox)?,
        Source::HostBinaries => host::populate(dir)?,
    }
    skeleton::mark_complete(dir)
}
