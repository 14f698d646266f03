//! The new mount API and `openat2`, as plain system calls the container's child can make
//! between `clone` and `execve` (no allocation: every string is prepared by the plan).
//!
//! `mount(2)` takes a target *path* and looks it up again, following whatever symlinks it
//! finds there on the host's side of `pivot_root`. The new API works on descriptors:
//! `fsopen`/`fsmount` (a new filesystem) or `open_tree` (a bind) give a detached mount,
//! `mount_setattr` changes its flags, and `move_mount` attaches it onto the descriptor of a
//! target that `openat2(RESOLVE_IN_ROOT)` resolved inside the container's root.

use std::ffi::CStr;

// Constants from <linux/mount.h> and <linux/openat2.h> that the libc crate lacks.
/// Mount is read-only.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// Ignore set-user-id and set-group-id bits.
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
/// No device files.
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
/// No program may be executed from it.
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
/// Never update access times.
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
/// Always update access times.
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
/// Never update directory access times.
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
/// The three bits that choose the access-time mode (relatime is 0).
pub const MOUNT_ATTR_ATIME: u64 = 0x70;
/// nosuid, nodev, noexec: what every kernel filesystem in a container gets.
pub const MOUNT_ATTR_HARDENED: u64 = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const OPEN_TREE_CLONE: libc::c_uint = 0x1;
const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;

/// How [`open_in_root`] resolves: `..` and absolute symlinks stop at the base
/// descriptor, as if it were `/`; `/proc/self/fd/N`-style magic links are refused.
pub const RESOLVE: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A descriptor closed when dropped (dropping allocates nothing, so the child may).
#[derive(Debug)]
pub struct Fd(libc::c_int);

impl Fd {
    /// Takes ownership of `fd`, an open descriptor nothing else will close.
    pub fn from_raw(fd: libc::c_int) -> Fd {
        Fd(fd)
    }

    /// The raw number, still owned by `self`.
    pub fn raw(&self) -> libc::c_int {
        self.0
    }

    /// Gives up ownership: the caller closes it.
    pub fn into_raw(self) -> libc::c_int {
        let fd = self.0;
        std::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: `self.0` was returned open by the kernel to this module and is closed
        // exactly once, here.
        unsafe { libc::close(self.0) };
    }
}

fn errno() -> i32 {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid to read.
    unsafe { *libc::__errno_location() }
}

fn check(ret: libc::c_long) -> Result<libc::c_long, i32> {
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

fn fd(ret: libc::c_long) -> Result<Fd, i32> {
    check(ret).map(|fd| Fd(fd as libc::c_int))
}

/// `openat2(base, path, {flags|O_PATH|O_CLOEXEC, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS})`:
/// `path` resolved with `base` as its root. Retries the kernel's `EAGAIN` (a rename
/// raced the lookup of `..`) a few times.
pub fn open_in_root(base: libc::c_int, path: &CStr, flags: libc::c_int) -> Result<Fd, i32> {
    // SAFETY: an all-zero open_how is a valid value (no flags, no mode, no resolve).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = RESOLVE;
    let mut result = Err(libc::EAGAIN);
    for _ in 0..16 {
        // SAFETY: `path` is a NUL-terminated string, `how` a live open_how whose size is
        // passed with it; the returned descriptor is owned by the `Fd`.
        result = fd(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                base,
                path.as_ptr(),
                &raw const how,
                std::mem::size_of::<libc::open_how>(),
            )
        });
        if result.as_ref().err() != Some(&libc::EAGAIN) {
            break;
        }
    }
    result
}

/// `fstat(fd)`'s file type bits (`S_IFDIR`, `S_IFLNK`, …); works on `O_PATH` descriptors.
pub fn file_type(fd: libc::c_int) -> Result<libc::mode_t, i32> {
    // SAFETY: an all-zero stat is a valid value for fstat to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a live stat buffer; `fd` is an open descriptor.
    check(unsafe { libc::fstat(fd, &mut st) }.into())?;
    Ok(st.st_mode & libc::S_IFMT)
}

/// `fsopen(fstype)`: a filesystem context to configure.
pub fn fsopen(fstype: &CStr) -> Result<Fd, i32> {
    // SAFETY: `fstype` is a NUL-terminated string; FSOPEN_CLOEXEC is a valid flag.
    fd(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

/// `fsconfig(FSCONFIG_SET_STRING, key, value)`.
pub fn set_string(fs: &Fd, key: &CStr, value: &CStr) -> Result<(), i32> {
    // SAFETY: `fs` is an open filesystem context; `key` and `value` are NUL-terminated
    // strings that outlive the call; aux must be 0 for FSCONFIG_SET_STRING.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.0,
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_SET_FLAG, key)`.
pub fn set_flag(fs: &Fd, key: &CStr) -> Result<(), i32> {
    // SAFETY: `fs` is an open filesystem context; `key` is a NUL-terminated string;
    // value must be null and aux 0 for FSCONFIG_SET_FLAG.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.0,
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_CMD_CREATE)` then `fsmount(attrs)`: the configured filesystem as
/// a detached mount.
pub fn create_and_mount(fs: &Fd, attrs: u64) -> Result<Fd, i32> {
    // SAFETY: `fs` is an open filesystem context; CMD_CREATE takes no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.0,
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    // SAFETY: `fs` is a created filesystem context; the flags and attributes are valid
    // MOUNT_ATTR_* bits.
    fd(unsafe { libc::syscall(libc::SYS_fsmount, fs.0, FSMOUNT_CLOEXEC, attrs) })
}

/// `open_tree(dir, path, OPEN_TREE_CLONE|AT_RECURSIVE [|AT_EMPTY_PATH])`: a detached copy of
/// the mount tree at `path` (or at `dir` itself when `path` is empty).
pub fn clone_tree(dir: libc::c_int, path: &CStr) -> Result<Fd, i32> {
    let mut flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as libc::c_uint;
    if path.is_empty() {
        flags |= libc::AT_EMPTY_PATH as libc::c_uint;
    }
    // SAFETY: `path` is a NUL-terminated string; `dir` is AT_FDCWD or an open descriptor.
    fd(unsafe { libc::syscall(libc::SYS_open_tree, dir, path.as_ptr(), flags) })
}

/// `mount_setattr(mnt, "", AT_EMPTY_PATH [|AT_RECURSIVE], {attr_set: attrs})`.
pub fn set_attrs(mnt: libc::c_int, attrs: u64, recursive: bool) -> Result<(), i32> {
    let mut attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    if attrs & MOUNT_ATTR_ATIME != 0 {
        // An access-time mode replaces the old one: the kernel wants the whole field cleared.
        attr.attr_clr = MOUNT_ATTR_ATIME;
    }
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `attr` is a live mount_attr whose size is passed with it; the path is a
    // static empty string meaning `mnt` itself.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mnt,
            c"".as_ptr(),
            flags,
            &raw mut attr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// `move_mount(mnt, "", target, "", F_EMPTY_PATH|T_EMPTY_PATH)`: attach the detached mount
/// onto the very inode `target` is open on; no path is looked up.
pub fn move_onto(mnt: &Fd, target: &Fd) -> Result<(), i32> {
    // SAFETY: both are open descriptors; the empty static paths with the EMPTY_PATH
    // flags mean "these descriptors themselves".
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.0,
            c"".as_ptr(),
            target.0,
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}
