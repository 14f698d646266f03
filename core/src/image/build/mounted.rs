//! Working on a build step's merged tree from vessel itself (COPY, ADD, the WORKDIR a
//! RUN needs), without the host ever seeing the mount.
//!
//! A thread of its own leaves the process's mount namespace (`unshare(CLONE_NEWNS)`
//! only affects the calling thread, which is why it works in a multi-threaded process),
//! makes every mount private, and mounts the step's overlay there. What the work writes
//! lands in the step's upper dir, with overlay's copy-up and whiteouts, exactly as a RUN
//! container's writes do, so both kinds of step become a layer the same way. When the
//! thread ends, its namespace and the mount go with it.

use std::io;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use crate::layers::{OverlayMount, OverlayRootfs};
use crate::security::InRoot;

// ANCHOR: in_merged
/// Mounts `overlay` on `merged` in a private mount namespace of a new thread and runs
/// `work` on the merged tree, opened as an [`InRoot`].
pub fn in_merged<T: Send>(
    overlay: &OverlayRootfs,
    merged: &Path,
    work: impl FnOnce(&InRoot) -> io::Result<T> + Send,
) -> io::Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                unshare(CloneFlags::CLONE_NEWNS).map_err(io::Error::from)?;
                mount(
                    None::<&str>,
                    "/",
                    None::<&str>,
                    MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                    None::<&str>,
                )
                .map_err(io::Error::from)?;
                let mounted = OverlayMount::mount(overlay, merged)?;
                let result = InRoot::open(merged).and_then(|root| work(&root));
                mounted.unmount()?;
                result
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the build step's thread panicked")))
    })
}
// ANCHOR_END: in_merged
