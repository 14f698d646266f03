//! `clone3(2)`: one system call that creates the child already inside its new namespaces
//! and hands the parent a pidfd for it.
//!
//! Without `CLONE_VM` the child gets a copy of the parent's memory, like `fork`, so it
//! runs on its own copy of the stack and needs no stack of its own.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `struct clone_args` from `<linux/sched.h>`, version 2 (88 bytes, Linux 5.7+).
#[repr(C)]
#[derive(Debug, Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of the clone this is.
#[derive(Debug)]
pub enum Cloned {
    /// We are the new child.
    Child,
    /// We are the parent of `pid`; `pidfd` refers to that process for good.
    Parent { pid: libc::pid_t, pidfd: OwnedFd },
}

/// Creates a child process with the given `CLONE_NEW*` flags.
///
/// # Safety
///
/// In [`Cloned::Child`] the process is a copy of a possibly multi-threaded parent with
/// only the calling thread alive: locks held by other threads stay locked forever. The
/// caller must make only async-signal-safe calls there and end with `execve` or `_exit`,
/// never returning into code that might allocate, lock or unwind.
pub unsafe fn clone3(namespace_flags: u64) -> io::Result<Cloned> {
    // SAFETY: the caller upholds the contract above, which is `clone3_in`'s.
    unsafe { clone3_in(namespace_flags, None) }
}

/// `CLONE_INTO_CGROUP` from `<linux/sched.h>` (Linux 5.7+). Not taken from libc, whose
/// glibc-target constant is typed `c_int` and cannot hold this bit.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

// ANCHOR: clone_into_cgroup
/// Like [`clone3`]; with `cgroup`, an open directory of a cgroup v2 hierarchy, the child
/// is born inside that cgroup (`CLONE_INTO_CGROUP`): it never runs a single instruction
/// outside it, and nobody has to write its pid to `cgroup.procs` afterwards.
///
/// # Safety
///
/// The same contract as [`clone3`] in the child.
pub unsafe fn clone3_in(
    namespace_flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> io::Result<Cloned> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: namespace_flags | libc::CLONE_PIDFD as u64,
        pidfd: (&raw mut pidfd) as u64,
        // The parent learns of the child's death by SIGCHLD and can wait for it normally.
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(dir) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = dir.as_raw_fd() as u64;
    }
    // ANCHOR_END: clone_into_cgroup
    // Every process cloned here enters a container as vessel's own binary: not dumpable,
    // its /proc/PID/exe stays closed to the container (see `sys::dumpable`).
    crate::sys::dumpable::forbid_for_root()?;
    // SAFETY: `args` is a valid clone_args of the size we pass, and `pidfd` points to a
    // live int the kernel fills in. No CLONE_VM and no stack: the child continues on a
    // copy of this stack, like fork. The caller upholds the child-side contract above.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &raw mut args,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Cloned::Child),
        pid => Ok(Cloned::Parent {
            pid: libc::pid_t::try_from(pid).expect("the kernel returns a pid_t"),
            // SAFETY: with CLONE_PIDFD the kernel stored a new descriptor that nothing
            // else owns; we take ownership of it exactly once.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}

/// `clone3(CLONE_PARENT)`: a copy of the caller whose parent is the caller's parent, not
/// the caller. Used by `vessel exec` after `setns` into a PID namespace, so the command
/// is a direct child of vessel. The kernel requires `exit_signal` 0 with `CLONE_PARENT`;
/// the new process inherits the caller's (`SIGCHLD`). Returns 0 in the new process, its
/// pid in the caller, or -1 with `errno` set. Async-signal-safe: one raw system call.
///
/// # Safety
///
/// The same contract as [`clone3`] in the new process.
pub unsafe fn clone3_sibling() -> libc::c_long {
    let mut args = CloneArgs {
        flags: libc::CLONE_PARENT as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid clone_args of the size we pass; no CLONE_VM and no
    // stack, so the child continues on a copy of this stack like fork.
    unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &raw mut args,
            std::mem::size_of::<CloneArgs>(),
        )
    }
}
