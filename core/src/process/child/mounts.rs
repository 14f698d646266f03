//! The child's mount steps, every path resolved *inside* the container's root.
//!
//! Before `pivot_root` the child still sees the host's filesystem, so a plain
//! `mkdir("…/merged/dev/pts")` or `mount(…, "…/merged/proc")` follows a symlink the image
//! planted (`/dev -> /`) out to the host. Here every target is resolved with
//! `openat2(root, "dev/pts", RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)`, so `..` and absolute
//! symlinks stop at the container's root; what is missing is created one component at a
//! time relative to a resolved parent descriptor (`mkdirat`, `openat(O_CREAT|O_EXCL|
//! O_NOFOLLOW)`); a final component that is a symlink is refused (`ELOOP`); and the mount
//! is attached onto the resolved descriptor with `move_mount`, so nothing is looked up
//! twice. Device nodes and `/dev` symlinks are made relative to the fresh `/dev` tmpfs's
//! own mount descriptor.
//!
//! Same rules as [`crate::process::child`]: async-signal-safe system calls on memory the parent
//! prepared; no allocation, no locks, no panics. Every function returns the errno to report.

use std::ffi::CStr;

use crate::process::plan::step::{
    FdSlot, FsOption, InRootPath, MountPoint, MountSource, MountStep, Step,
};
use crate::rootfs::mount_api::{
    self, Fd, MOUNT_ATTR_HARDENED, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY,
};

const SLOTS: usize = 2;

/// The descriptors the child keeps between steps, one per [`FdSlot`], on its stack.
/// All are close-on-exec: `execve` drops them.
#[derive(Debug)]
pub struct ChildFds([libc::c_int; SLOTS]);

impl ChildFds {
    /// An empty table.
    pub const fn new() -> Self {
        ChildFds([-1; SLOTS])
    }

    fn get(&self, slot: FdSlot) -> Result<libc::c_int, i32> {
        match self.0[slot as usize] {
            -1 => Err(libc::EBADF),
            fd => Ok(fd),
        }
    }

    fn set(&mut self, slot: FdSlot, fd: Fd) {
        let old = std::mem::replace(&mut self.0[slot as usize], fd.into_raw());
        if old != -1 {
            // SAFETY: `old` was put in the table by this function and is owned by it.
            unsafe { libc::close(old) };
        }
    }
}

impl Default for ChildFds {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs one of the mount steps; any other step is a planning bug, reported as EINVAL.
pub fn run_step(step: &Step, fds: &mut ChildFds) -> Result<(), i32> {
    match step {
        Step::OpenRoot(root) => open_root(root, fds),
        Step::Mount(m) => mount(m, fds),
        Step::CharDevice {
            at,
            name,
            mode,
            major,
            minor,
            ..
        } => {
            let dev = libc::makedev(*major, *minor);
            // SAFETY: the slot's descriptor is open; `name` is a NUL-terminated single
            // component owned by the plan, so the node lands in that directory.
            let ret =
                unsafe { libc::mknodat(fds.get(*at)?, name.as_ptr(), libc::S_IFCHR | *mode, dev) };
            crate::sys::errno::check(ret.into())
        }
        Step::Symlink {
            target, at, name, ..
        } => {
            // SAFETY: both strings are NUL-terminated and owned by the plan; the slot's
            // descriptor is open.
            let ret = unsafe { libc::symlinkat(target.as_ptr(), fds.get(*at)?, name.as_ptr()) };
            crate::sys::errno::check(ret.into())
        }
        Step::Mknod {
            parent,
            name,
            mode,
            major,
            minor,
            ..
        } => {
            let dir = match parent.prefixes.is_empty() {
                true => None,
                false => Some(resolve(parent, fds, Some(MountPoint::Dir(0o755)))?),
            };
            let dir_fd = match &dir {
                Some(dir) => dir.raw(),
                None => fds.get(parent.base)?,
            };
            let dev = libc::makedev(*major, *minor);
            // SAFETY: `dir_fd` is an open directory resolved inside the root; `name` is a
            // NUL-terminated single component owned by the plan.
            let ret = unsafe { libc::mknodat(dir_fd, name.as_ptr(), *mode, dev) };
            crate::sys::errno::check(ret.into())
        }
        Step::ReadOnlyPath(path) => read_only_path(path, fds),
        Step::MaskPath(path) => mask_path(path, fds),
        Step::MakeRootReadOnly => {
            mount_api::set_attrs(fds.get(FdSlot::Root)?, MOUNT_ATTR_RDONLY, false)
        }
        _ => Err(libc::EINVAL),
    }
}

fn open_root(root: &CStr, fds: &mut ChildFds) -> Result<(), i32> {
    // The root is vessel's own merged directory or the --rootfs the caller named, both
    // resolved by the parent: the one host path the child opens by name.
    // SAFETY: `root` is a NUL-terminated string owned by the plan.
    let fd = unsafe {
        libc::open(
            root.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    crate::sys::errno::check(fd.into())?;
    fds.set(FdSlot::Root, Fd::from_raw(fd));
    Ok(())
}

// ANCHOR: mount_in_root
/// Makes the detached mount, resolves (and creates) its target inside the root, and
/// attaches the mount onto the target's descriptor.
fn mount(m: &MountStep, fds: &mut ChildFds) -> Result<(), i32> {
    let mnt = match &m.source {
        MountSource::New { fstype, options } => {
            let fs = mount_api::fsopen(fstype)?;
            // The source mountinfo shows, as `mount -t proc proc` would set it.
            mount_api::set_string(&fs, c"source", fstype)?;
            for option in options {
                match option {
                    FsOption::Flag(key) => mount_api::set_flag(&fs, key)?,
                    FsOption::Value(key, value) => mount_api::set_string(&fs, key, value)?,
                }
            }
            mount_api::create_and_mount(&fs, m.attrs)?
        }
        MountSource::Bind(host) => {
            let mnt = mount_api::clone_tree(libc::AT_FDCWD, host)?;
            if m.attrs != 0 {
                mount_api::set_attrs(mnt.raw(), m.attrs, true)?;
            }
            mnt
        }
    };
    let target = resolve(&m.target, fds, Some(m.create))?;
    mount_api::move_onto(&mnt, &target)?;
    if let Some(slot) = m.keep {
        fds.set(slot, mnt);
    }
    Ok(())
}
// ANCHOR_END: mount_in_root

/// Binds the path onto itself, read-only (and nosuid, nodev, noexec, as runc does).
fn read_only_path(path: &InRootPath, fds: &ChildFds) -> Result<(), i32> {
    let target = match resolve(path, fds, None) {
        Err(libc::ENOENT) => return Ok(()),
        other => other?,
    };
    let mnt = mount_api::clone_tree(target.raw(), c"")?;
    mount_api::set_attrs(mnt.raw(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_HARDENED, true)?;
    mount_api::move_onto(&mnt, &target)
}

/// An empty read-only tmpfs over a directory, the container's `/dev/null` over anything
/// else, as docker does.
fn mask_path(path: &InRootPath, fds: &ChildFds) -> Result<(), i32> {
    let target = match resolve(path, fds, None) {
        Err(libc::ENOENT) => return Ok(()),
        other => other?,
    };
    let mnt = if mount_api::file_type(target.raw())? == libc::S_IFDIR {
        let fs = mount_api::fsopen(c"tmpfs")?;
        mount_api::set_string(&fs, c"source", c"tmpfs")?;
        mount_api::create_and_mount(&fs, MOUNT_ATTR_RDONLY | MOUNT_ATTR_HARDENED)?
    } else {
        let dev = fds.get(FdSlot::Dev)?;
        let mnt = mount_api::clone_tree(dev, c"null")?;
        // Not nodev: the file must read as /dev/null does (empty), not fail to open.
        let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        mount_api::set_attrs(mnt.raw(), attrs, true)?;
        mnt
    };
    mount_api::move_onto(&mnt, &target)
}

// ANCHOR: resolve_in_root
/// An `O_PATH` descriptor of `path`, resolved inside its base slot; with `create`, what
/// is missing is made on the way. The last component is never followed: a symlink there
/// is refused with `ELOOP` (following it, even inside the root, would mount somewhere
/// the plan did not name). Symlinks in earlier components are followed *inside* the root.
fn resolve(path: &InRootPath, fds: &ChildFds, create: Option<MountPoint>) -> Result<Fd, i32> {
    let base = fds.get(path.base)?;
    let Some(full) = path.prefixes.last() else {
        return Err(libc::EINVAL); // the plan never mounts onto the base itself
    };
    match mount_api::open_in_root(base, full, libc::O_NOFOLLOW) {
        Err(libc::ENOENT) if create.is_some() => {}
        found => return checked(found?, create),
    }
    let last = path.prefixes.len() - 1;
    for (i, (prefix, name)) in path.prefixes.iter().zip(&path.names).enumerate() {
        let flags = if i == last { libc::O_NOFOLLOW } else { 0 };
        match mount_api::open_in_root(base, prefix, flags) {
            Ok(found) if i == last => return checked(found, create),
            Ok(_) => continue,
            Err(libc::ENOENT) => {}
            Err(errno) => return Err(errno),
        }
        // Missing: create it in its parent, itself resolved inside the root.
        let parent = match i {
            0 => None,
            _ => Some(mount_api::open_in_root(
                base,
                &path.prefixes[i - 1],
                libc::O_DIRECTORY,
            )?),
        };
        let dir = parent.as_ref().map_or(base, Fd::raw);
        let kind = match create {
            Some(kind) if i == last => kind,
            _ => MountPoint::Dir(0o755),
        };
        make(dir, name, kind)?;
    }
    checked(
        mount_api::open_in_root(base, full, libc::O_NOFOLLOW)?,
        create,
    )
}

/// `mkdirat` or an exclusive, non-following `openat(O_CREAT)` of one name in `dir`;
/// something already there is fine (the caller looks at what it is).
fn make(dir: libc::c_int, name: &CStr, kind: MountPoint) -> Result<(), i32> {
    let ret = match kind {
        // SAFETY: `dir` is an open directory; `name` a NUL-terminated single component.
        MountPoint::Dir(mode) => unsafe { libc::mkdirat(dir, name.as_ptr(), mode) },
        // Read-only: opening an image file for writing would make overlayfs copy it up
        // into the writable layer, and a commit would then pack the mount point.
        // SAFETY: as above; the mode is open's variadic argument.
        MountPoint::File => unsafe {
            libc::openat(
                dir,
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_RDONLY | libc::O_CLOEXEC,
                0o666 as libc::c_uint,
            )
        },
    };
    match crate::sys::errno::check(ret.into()) {
        Ok(()) | Err(libc::EEXIST) => {
            if kind == MountPoint::File && ret >= 0 {
                // SAFETY: the descriptor openat just returned, used for nothing else.
                unsafe { libc::close(ret) };
            }
            Ok(())
        }
        Err(errno) => Err(errno),
    }
}

/// Refuses a symlink, and a mount point of the wrong kind (a directory where a file is
/// bound, or the reverse).
fn checked(found: Fd, want: Option<MountPoint>) -> Result<Fd, i32> {
    let kind = mount_api::file_type(found.raw())?;
    match (kind, want) {
        (libc::S_IFLNK, _) => Err(libc::ELOOP),
        (libc::S_IFDIR, Some(MountPoint::File)) => Err(libc::EISDIR),
        (k, Some(MountPoint::Dir(_))) if k != libc::S_IFDIR => Err(libc::ENOTDIR),
        _ => Ok(found),
    }
}
// ANCHOR_END: resolve_in_root
