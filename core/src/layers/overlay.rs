//! Stacking layers with overlayfs, through the new mount API.
//!
//! `mount -t overlay -o lowerdir=a:b:c,…` passes every layer in one option string, and
//! the kernel copies mount options into a single page: a few dozen long layer paths are
//! enough to overflow it. The new mount API configures a filesystem one option at a time
//! (`fsopen` → `fsconfig` per option → `fsmount` → `move_mount`), and since Linux 6.8
//! overlayfs takes one `lowerdir+` per layer, so the only limit left is overlay's own
//! stack depth.
//!
//! [`OverlayArgs::mount`] makes only system calls on strings prepared beforehand, so the
//! container's child can run it between `clone` and `execve`.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The deepest stack of lower layers overlayfs accepts (`OVL_MAX_STACK` in the kernel).
pub const MAX_LOWER_LAYERS: usize = 500;

/// An overlay root filesystem's directories on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayRootfs {
    /// Read-only layers, top-most first: for a container, its init layer, then the
    /// image's layers from newest to oldest.
    pub lowers: Vec<PathBuf>,
    /// The writable layer: every change the container makes lands here.
    pub upper: PathBuf,
    /// overlayfs's scratch directory, on the same filesystem as `upper`.
    pub work: PathBuf,
}

// Constants from <linux/mount.h>, not all of which the libc crate has.
const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

/// Everything one overlay mount needs, as C strings, ready for the child.
#[derive(Debug)]
pub struct OverlayArgs {
    /// Lower dirs, top-most first.
    pub lowers: Vec<CString>,
    /// The upper dir.
    pub upper: CString,
    /// The work dir.
    pub work: CString,
    /// Where the merged view is mounted.
    pub target: CString,
    /// The overlay already made by the parent, detached (see [`OverlayArgs::premount`]):
    /// then the child only attaches it at `target`.
    pub premounted: Option<std::os::fd::OwnedFd>,
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{path:?} contains a NUL byte"),
        )
    })
}

impl OverlayArgs {
    /// Prepares the strings for mounting `rootfs` at `target`.
    pub fn new(rootfs: &OverlayRootfs, target: &Path) -> io::Result<OverlayArgs> {
        Ok(OverlayArgs {
            lowers: rootfs
                .lowers
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?,
            upper: c_path(&rootfs.upper)?,
            work: c_path(&rootfs.work)?,
            target: c_path(target)?,
            premounted: None,
        })
    }

    // ANCHOR: premount
    /// Makes the overlay now, in the calling (parent) process, as a *detached* mount
    /// that no mount table shows, for a child in a user namespace to attach with
    /// `move_mount`. Mounted by the parent (real root), overlay copies up and writes its
    /// whiteouts with the parent's credentials: the container's root, an unprivileged
    /// host user, could neither write an upper directory owned by real root nor read
    /// overlay's `trusted.*` xattrs, and files of unmapped owners could not be copied
    /// up at all. The mount goes away when the descriptor closes unless attached.
    pub fn premount(&mut self) -> io::Result<()> {
        let fs = fsopen(c"overlay").map_err(io::Error::from_raw_os_error)?;
        let made = self.configure(fs);
        close(fs);
        self.premounted = Some(made.map_err(io::Error::from_raw_os_error)?);
        Ok(())
    }
    // ANCHOR_END: premount

    // ANCHOR: mount_overlay
    /// Mounts the overlay. Async-signal-safe: system calls on the prepared strings only,
    /// no allocation. Returns the failing call's errno.
    pub fn mount(&self) -> Result<(), i32> {
        if let Some(mnt) = &self.premounted {
            return attach(mnt.as_raw_fd(), &self.target);
        }
        let fs = fsopen(c"overlay")?;
        let result = self.configure_mount(fs);
        close(fs);
        result
    }

    fn configure_mount(&self, fs: libc::c_int) -> Result<(), i32> {
        let mnt = self.configure(fs)?;
        attach(mnt.as_raw_fd(), &self.target)
    }

    /// Configures the filesystem context `fs` and makes the (detached) mount.
    fn configure(&self, fs: libc::c_int) -> Result<std::os::fd::OwnedFd, i32> {
        for lower in &self.lowers {
            set_string(fs, c"lowerdir+", lower)?; // one layer per call: no page limit
        }
        set_string(fs, c"upperdir", &self.upper)?;
        set_string(fs, c"workdir", &self.work)?;
        // No redirects and no metadata-only copy-ups: every change is a whole file or a
        // whiteout in the upper dir, which is what `vessel commit` packs.
        set_string(fs, c"redirect_dir", c"off")?;
        set_string(fs, c"metacopy", c"off")?;
        // SAFETY: `fs` is the filesystem context fd opened above; CMD_CREATE takes no
        // key or value.
        check(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs,
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_void>(),
                0,
            )
        })?;
        // SAFETY: `fs` is a configured, created filesystem context; flags are valid.
        let mnt = check(unsafe { libc::syscall(libc::SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) })?;
        // SAFETY: fsmount returned a new descriptor that nothing else owns. (Wrapping it
        // does not allocate: an OwnedFd is the integer itself.)
        Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(mnt as libc::c_int) })
    }
    // ANCHOR_END: mount_overlay
}

/// Attaches the detached mount `mnt` at `target` (`move_mount` with an empty path).
fn attach(mnt: libc::c_int, target: &CStr) -> Result<(), i32> {
    // SAFETY: `mnt` is a detached mount fsmount returned; the empty path with
    // MOVE_MOUNT_F_EMPTY_PATH means "this fd itself"; `target` is a prepared string.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt,
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

fn errno() -> i32 {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid to read.
    unsafe { *libc::__errno_location() }
}

fn check(ret: libc::c_long) -> Result<libc::c_long, i32> {
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

fn close(fd: libc::c_int) {
    // SAFETY: `fd` was opened by this module and is closed exactly once.
    unsafe { libc::close(fd) };
}

fn fsopen(fstype: &CStr) -> Result<libc::c_int, i32> {
    // SAFETY: `fstype` is a NUL-terminated string; FSOPEN_CLOEXEC is a valid flag.
    check(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
        .map(|fd| fd as libc::c_int)
}

fn set_string(fs: libc::c_int, key: &CStr, value: &CStr) -> Result<(), i32> {
    // SAFETY: `fs` is an open filesystem context; `key` and `value` are NUL-terminated
    // strings that outlive the call; aux must be 0 for FSCONFIG_SET_STRING.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// An overlay mounted by this process (tests, lessons), unmounted when dropped, so a
/// failing test cannot leave a mount behind.
#[derive(Debug)]
pub struct OverlayMount {
    target: PathBuf,
    mounted: bool,
}

impl OverlayMount {
    /// Mounts `rootfs` at `target` in the caller's mount namespace.
    pub fn mount(rootfs: &OverlayRootfs, target: &Path) -> io::Result<OverlayMount> {
        let args = OverlayArgs::new(rootfs, target)?;
        args.mount().map_err(|errno| {
            io::Error::new(
                io::Error::from_raw_os_error(errno).kind(),
                format!(
                    "mount overlay of {} layers on {target:?} (fsopen/fsconfig lowerdir+, Linux 6.8 or later): {}",
                    rootfs.lowers.len(),
                    io::Error::from_raw_os_error(errno)
                ),
            )
        })?;
        Ok(OverlayMount {
            target: target.to_owned(),
            mounted: true,
        })
    }

    /// The merged directory.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Unmounts now, reporting failure (dropping unmounts too, silently).
    pub fn unmount(mut self) -> io::Result<()> {
        self.mounted = false;
        nix::mount::umount(&self.target).map_err(io::Error::from)
    }
}

impl Drop for OverlayMount {
    fn drop(&mut self) {
        if self.mounted {
            let _ = nix::mount::umount2(&self.target, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}
