//! The filesystem hardening options of `vessel run`: docker's `--read-only` and
//! `--tmpfs` (the masked and read-only `/proc` paths are on by default; `--privileged`,
//! in [`super::cap_args`], turns them off).

use clap::Args;

use crate::error::Result;
use crate::process::spec::ContainerSpec;
use crate::rootfs::tmpfs::TmpfsMount;

/// The filesystem options; see [`FilesystemArgs::apply`].
#[derive(Debug, Clone, Args)]
pub struct FilesystemArgs {
    /// Mount the container's root filesystem read-only: it can write only where a
    /// volume (-v), a --tmpfs, /dev, /dev/shm or /proc is mounted, as with docker.
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Mount an empty tmpfs at PATH (repeatable), with docker's syntax
    /// PATH[:OPTIONS], e.g. /run:rw,size=64m,mode=1777,exec. Default options:
    /// rw,noexec,nosuid,nodev; tmpfs also takes size, mode, uid, gid, nr_inodes,
    /// nr_blocks and mpol.
    #[arg(long = "tmpfs", value_name = "PATH[:OPTIONS]")]
    pub tmpfs: Vec<String>,
}

impl FilesystemArgs {
    fn mounts(&self) -> Result<Vec<TmpfsMount>> {
        let mounts = self.tmpfs.iter().map(|t| TmpfsMount::parse(t));
        Ok(mounts.collect::<std::result::Result<_, _>>()?)
    }

    /// `spec` with a read-only root and the tmpfs mounts asked for.
    pub fn apply(&self, spec: ContainerSpec) -> Result<ContainerSpec> {
        let mut spec = spec.read_only_root(self.read_only);
        for mount in self.mounts()? {
            spec = spec.tmpfs(mount);
        }
        Ok(spec)
    }
}
