//! What an attacker tries from inside a default container: open host-wide kernel knobs
//! for writing, read masked files, push keystrokes into a terminal, use an inherited
//! descriptor, make and open device nodes, call syscalls a seccomp filter should refuse.
//!
//! Every action here *tries* and reports; none of them changes anything outside the
//! container when it succeeds: a kernel knob is opened for writing and closed without a
//! byte written, the keystroke pushed is `#` into the suite's own pty, a device opened is
//! closed at once, a key added lives in a keyring the suite removes it from.

use std::ffi::CString;
use std::fs;
use std::io;

use crate::json::Object;

fn errno() -> i64 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(0)
        .into()
}

fn c(path: &str) -> CString {
    CString::new(path).unwrap_or_default()
}

fn close(fd: i32) {
    // SAFETY: the caller owns `fd` and does not use it afterwards.
    unsafe { libc::close(fd) };
}

/// Opens `path` write-only (no create, no truncate) and closes it at once, never
/// writing: a sysctl or `sysrq-trigger` acts on write(2), not on open(2). The errno of
/// the open is the answer (0: the knob was open for writing).
pub fn open_wronly(path: &str) -> Object {
    let mut o = Object::kind("open_wronly");
    o.str("path", path).int("errno", open_for_writing(path));
    o
}

/// The errno of opening `path` write-only, 0 if it opened (it is closed at once).
fn open_for_writing(path: &str) -> i64 {
    let name = c(path);
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(name.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return errno();
    }
    close(fd);
    0
}

/// Whether `path` sits on a read-only mount (`statvfs`'s `ST_RDONLY`).
pub fn read_only(path: &str) -> Object {
    let name = c(path);
    let mut buf = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `name` is NUL-terminated; `buf` has room for one statvfs.
    let ret = unsafe { libc::statvfs(name.as_ptr(), buf.as_mut_ptr()) };
    let mut o = Object::kind("read_only");
    o.str("path", path);
    if ret == 0 {
        // SAFETY: statvfs returned 0, so it filled `buf` in.
        let flags = unsafe { buf.assume_init() }.f_flag;
        o.int("errno", 0)
            .bool("read_only", flags & libc::ST_RDONLY != 0);
    } else {
        o.int("errno", errno()).bool("read_only", false);
    }
    o
}

/// What `path` shows: a file's first bytes (how many), a directory's entries, or the
/// errno that stopped the look.
pub fn peek(path: &str) -> Object {
    let mut o = Object::kind("peek");
    o.str("path", path);
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            o.int("errno", e.raw_os_error().unwrap_or(-1).into());
            return o;
        }
    };
    if meta.is_dir() {
        match fs::read_dir(path) {
            Ok(entries) => {
                let names: Vec<String> = entries
                    .flatten()
                    .take(8)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                o.int("errno", 0).bool("dir", true).strs("entries", &names);
            }
            Err(e) => {
                o.int("errno", e.raw_os_error().unwrap_or(-1).into());
            }
        }
        return o;
    }
    let name = c(path);
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(name.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        o.int("errno", errno());
        return o;
    }
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its length and `fd` is open.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    let got = if n < 0 { errno() } else { 0 };
    close(fd);
    o.int("errno", got)
        .bool("dir", false)
        .int("bytes", n.max(0) as i64);
    o
}

/// The session and terminal the probe is in, and whether `TIOCSTI` on its stdin is
/// accepted. The suite gives it, as stdin, the slave of a pty the suite owns (never a
/// real terminal); the byte pushed is `#`, a shell comment.
pub fn tiocsti() -> Object {
    // SAFETY: getsid(0), getpid have no preconditions.
    let (sid, pid) = unsafe { (libc::getsid(0), libc::getpid()) };
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Field 7 (tty_nr), counted after the `(comm)` that may hold spaces.
    let tty_nr = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.split_whitespace().nth(4))
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(-1);
    let byte = b'#';
    // SAFETY: TIOCSTI reads one byte from the pointer, which points at `byte`.
    let ret = unsafe { libc::ioctl(0, libc::TIOCSTI, &byte) };
    let mut o = Object::kind("tiocsti");
    o.int("sid", sid.into())
        .int("pid", pid.into())
        .int("tty_nr", tty_nr)
        .int("errno", if ret == 0 { 0 } else { errno() });
    o
}

/// Every descriptor the probe holds above stderr (where it points), and whether
/// `NAME` could be read through any of them (`/proc/self/fd/N/NAME`).
pub fn fds(name: &str) -> Object {
    // Collect first, so the directory stream's own descriptor is known and skipped.
    let entries: Vec<String> = fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut open = Vec::new();
    let mut read = Vec::new();
    for fd in entries {
        let Ok(number) = fd.parse::<i32>() else {
            continue;
        };
        let link = format!("/proc/self/fd/{fd}");
        let Ok(target) = fs::read_link(&link) else {
            continue; // the read_dir stream, closed by now
        };
        if number <= 2 {
            continue;
        }
        open.push(format!("{fd} -> {}", target.display()));
        if let Ok(text) = fs::read_to_string(format!("{link}/{name}")) {
            read.push(format!("{fd}: {}", text.trim()));
        }
    }
    let mut o = Object::kind("fds");
    o.strs("open", &open).strs("read", &read);
    o
}

/// `mknod PATH` as a `c`har or `b`lock device `major:minor`, then open it for `r`, `w`
/// or `rw` and close it at once; the node is removed again.
pub fn device(path: &str, kind: &str, major: u32, minor: u32, access: &str) -> Object {
    let name = c(path);
    let type_bits = if kind == "b" {
        libc::S_IFBLK
    } else {
        libc::S_IFCHR
    };
    // SAFETY: `name` is NUL-terminated; makedev and mknod take plain numbers.
    let made = unsafe {
        libc::mknod(
            name.as_ptr(),
            type_bits | 0o600,
            libc::makedev(major, minor),
        )
    };
    let mknod_errno = if made == 0 { 0 } else { errno() };
    let flags = match access {
        "w" => libc::O_WRONLY,
        "rw" => libc::O_RDWR,
        _ => libc::O_RDONLY,
    };
    // SAFETY: as above.
    let fd = unsafe { libc::open(name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NONBLOCK) };
    let open_errno = if fd >= 0 { 0 } else { errno() };
    if fd >= 0 {
        close(fd);
    }
    if made == 0 {
        // SAFETY: as above.
        unsafe { libc::unlink(name.as_ptr()) };
    }
    let mut o = Object::kind("device");
    o.str("path", path)
        .str("device", &format!("{kind} {major}:{minor}"))
        .int("mknod_errno", mknod_errno)
        .int("open_errno", open_errno);
    o
}

/// Syscalls docker's seccomp profile refuses: `keyctl` (read the session keyring's id)
/// and, in a child, `unshare(CLONE_NEWUSER)`.
pub fn syscalls() -> Object {
    const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    // SAFETY: keyctl(GET_KEYRING_ID) takes two numbers and writes no memory.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_KEYRING_ID,
            KEY_SPEC_SESSION_KEYRING,
            0,
        )
    };
    let keyctl_errno = if serial >= 0 { 0 } else { errno() };
    // SAFETY: the probe has one thread; the child only calls unshare and _exit.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: unshare takes flags; _exit ends the child at once.
        unsafe {
            let code = if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                0
            } else {
                *libc::__errno_location()
            };
            libc::_exit(code & 0xff);
        }
    }
    let mut status = 0;
    // SAFETY: `status` is a live int for waitpid to fill in.
    unsafe { libc::waitpid(child, &mut status, 0) };
    let unshare_errno = if child > 0 && libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).into()
    } else {
        -1
    };
    let mut o = Object::kind("syscalls");
    o.int("keyctl_errno", keyctl_errno)
        .int("session_keyring", if serial >= 0 { serial } else { 0 })
        .int("unshare_userns_errno", unshare_errno);
    o
}

/// Adds a `user` key called `description` to the session keyring: the suite then
/// looks for it in its own.
pub fn add_key(description: &str) -> Object {
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    let kind = c("user");
    let desc = c(description);
    let payload = b"planted by vessel-probe";
    // SAFETY: every pointer is valid for the call (two NUL-terminated strings and the
    // payload with its length).
    let serial = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            kind.as_ptr(),
            desc.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            KEY_SPEC_SESSION_KEYRING,
        )
    };
    let mut o = Object::kind("add_key");
    o.str("description", description)
        .int("errno", if serial >= 0 { 0 } else { errno() })
        .int("serial", serial.max(0));
    o
}

/// Every way root inside might reach `core_pattern` for writing, none of them writing:
/// the path itself, through `/proc/self/root` and `/proc/1/root`, after a remount of
/// `/proc/sys` read-write, after unmounting it, and in a fresh `proc` mounted on /tmp.
pub fn core_pattern() -> Object {
    const KNOB: &str = "sys/kernel/core_pattern";
    let mut o = Object::kind("core_pattern");
    let mut opened = Vec::new();
    let mut try_open = |path: String| {
        if open_for_writing(&path) == 0 {
            opened.push(path);
        }
    };
    try_open(format!("/proc/{KNOB}"));
    try_open(format!("/proc/self/root/proc/{KNOB}"));
    try_open(format!("/proc/1/root/proc/{KNOB}"));
    let target = c("/proc/sys");
    // SAFETY: the pointers are NUL-terminated strings or null, as a remount allows.
    let remount = unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND,
            std::ptr::null(),
        )
    };
    o.int("remount_errno", if remount == 0 { 0 } else { errno() });
    try_open(format!("/proc/{KNOB}"));
    // SAFETY: `target` is NUL-terminated; MNT_DETACH takes nothing else.
    let unmount = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    o.int("umount_errno", if unmount == 0 { 0 } else { errno() });
    try_open(format!("/proc/{KNOB}"));
    let fresh = c("/tmp");
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let mounted = unsafe {
        libc::mount(
            c"proc".as_ptr(),
            fresh.as_ptr(),
            c"proc".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    o.int("mount_proc_errno", if mounted == 0 { 0 } else { errno() });
    if mounted == 0 {
        try_open(format!("/tmp/{KNOB}"));
        // SAFETY: as above.
        unsafe { libc::umount2(fresh.as_ptr(), libc::MNT_DETACH) };
    }
    o.strs("opened", &opened);
    o
}

/// Swaps two paths (`renameat2(RENAME_EXCHANGE)`) over and over, in a child, for
/// ever: a directory and a symlink to a host directory trade places while the host
/// packs the container's layer. Prints once the child runs.
pub fn swap_forever(a: &str, b: &str) -> Object {
    let (a_name, b_name) = (c(a), c(b));
    // SAFETY: the probe has one thread; the child loops on one syscall.
    let child = unsafe { libc::fork() };
    if child == 0 {
        loop {
            // SAFETY: both names are NUL-terminated and outlive the loop.
            unsafe {
                libc::syscall(
                    libc::SYS_renameat2,
                    libc::AT_FDCWD,
                    a_name.as_ptr(),
                    libc::AT_FDCWD,
                    b_name.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            };
        }
    }
    let mut o = Object::kind("swap_forever");
    o.int("child", child.into());
    o
}
