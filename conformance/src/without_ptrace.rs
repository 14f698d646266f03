//! Opening a file the way a default container's root could: uid 0, every capability but
//! `CAP_SYS_PTRACE` (docker's default set has far fewer, and never that one).
//!
//! `/proc/PID/exe` of a process with our uid opens only if the process is dumpable or
//! we hold `CAP_SYS_PTRACE`, and its capabilities are a subset of ours: so with that one
//! capability dropped, the open says whether a runtime's own process is dumpable, and
//! what opens says whether it is the runtime's file on the host or a copy (runc runs its
//! init from a sealed memfd copy of itself, so a dumpable init hands out only the copy).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
/// `CAP_SYS_PTRACE`.
const CAP_SYS_PTRACE: u32 = 19;
/// The child's exit code when it opened the file `same_as` names; when it opened another
/// file; otherwise `ERRNO_BASE + errno`, or `SET_UP_FAILED` if it could not drop the
/// capability.
const OPENED_IT: i32 = 0;
const SET_UP_FAILED: i32 = 1;
const OPENED_ANOTHER: i32 = 2;
const ERRNO_BASE: i32 = 10;

/// What a child without `CAP_SYS_PTRACE` got when it opened the path.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    /// The file `same_as` names (the same device and inode).
    ThatFile,
    /// Some other file.
    Another,
    /// Nothing: the kernel refused with this errno.
    Refused(i32),
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Tries to open `path` read-only in a child that dropped `CAP_SYS_PTRACE`, and says
/// whether what opened is the file `same_as` names.
pub fn try_open(path: &Path, same_as: &Path) -> Result<Opened, String> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let target = std::fs::metadata(same_as).map_err(|e| format!("{}: {e}", same_as.display()))?;
    let target = (target.dev(), target.ino());
    // SAFETY: fork has no memory preconditions; the child calls only async-signal-safe
    // functions (prctl, capget, capset, open, fstat, _exit) on memory made before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        let code = drop_ptrace_and_open(&path, target);
        // SAFETY: _exit ends the child at once, running nothing of the parent's.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid place for the kernel to write.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
    }
    match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
        Some(OPENED_IT) => Ok(Opened::ThatFile),
        Some(OPENED_ANOTHER) => Ok(Opened::Another),
        Some(code) if code >= ERRNO_BASE => Ok(Opened::Refused(code - ERRNO_BASE)),
        Some(SET_UP_FAILED) => Err("the child could not drop CAP_SYS_PTRACE".into()),
        _ => Err(format!("the child ended with status {status:#x}")),
    }
}

/// In the forked child: drops `CAP_SYS_PTRACE` from every set, then opens `path` and
/// compares it with `target` (device, inode).
fn drop_ptrace_and_open(path: &CString, target: (u64, u64)) -> i32 {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capget writes two CapData words for version 3 into `data`, which has two.
    let got = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    // SAFETY: PR_CAPBSET_DROP takes one capability number; no pointer.
    let dropped = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) };
    if got != 0 || dropped != 0 {
        return SET_UP_FAILED;
    }
    let bit = !(1u32 << CAP_SYS_PTRACE);
    data[0].effective &= bit;
    data[0].permitted &= bit;
    data[0].inheritable &= bit;
    // SAFETY: capset reads the header and two CapData words, both valid.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return SET_UP_FAILED;
    }
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd >= 0 {
        // SAFETY: an all-zero stat is a valid value for fstat to overwrite.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open and `stat` is a valid place to write.
        if unsafe { libc::fstat(fd, &mut stat) } != 0 {
            return SET_UP_FAILED;
        }
        return match (stat.st_dev, stat.st_ino) == target {
            true => OPENED_IT,
            false => OPENED_ANOTHER,
        };
    }
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    ERRNO_BASE + unsafe { *libc::__errno_location() }.min(200)
}
