//! `vessel rootfs`: where the default rootfs is.

use clap::Args;

use super::output::{errln, outln};
use crate::error::Result;
use crate::rootfs::{self, Source};
use crate::state::Root;

/// Arguments of `vessel rootfs`.
#[derive(Debug, Args)]
pub struct RootfsArgs {}

/// Builds the default rootfs if needed and prints its path (stdout) and origin (stderr).
pub fn rootfs(root: &Root, _args: RootfsArgs) -> Result<i32> {
    let dir = rootfs::default_rootfs_in(root.dir())?;
    match rootfs::source() {
        Source::Busybox(busybox) => {
            errln!("built from the static busybox {}", busybox.display())
        }
        Source::HostBinaries => errln!("built from this host's binaries and their libraries"),
    }
    outln!("{}", dir.display());
    Ok(0)
}
