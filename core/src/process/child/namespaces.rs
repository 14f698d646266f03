//! The child's namespace steps: becoming root of a user namespace, unsharing the
//! namespaces `clone3` must not create, waiting for time offsets, bringing `lo` up, and
//! joining a running container's namespaces for `vessel exec`.
//!
//! Same rules as [`crate::process::child`]: this runs between `clone` and `execve`, so only
//! async-signal-safe system calls on memory the parent prepared; no allocation, no locks,
//! no panics. Every function returns the `errno` to report.

use std::ffi::CStr;

use crate::process::plan::step::Step;
use crate::sys::errno::{check, errno};

/// Runs one of the namespace steps; any other step is a planning bug, reported as EINVAL.
pub fn run_step(step: &Step) -> Result<(), i32> {
    match step {
        Step::BecomeRoot { setgroups } => become_root(*setgroups),
        Step::Unshare(flags) => {
            // SAFETY: unshare takes a flag word and touches no memory of ours.
            check(unsafe { libc::unshare(*flags) }.into())
        }
        Step::AwaitTimeOffsets {
            ready,
            resume,
            unused,
        } => await_time_offsets(*ready, *resume, *unused),
        Step::EnterTimeNamespace => enter_time_namespace(),
        Step::LoopbackUp => loopback_up(),
        Step::SetNs { fd, nstype, .. } => {
            // SAFETY: `fd` is a /proc/PID/ns file the parent opened for this child.
            check(unsafe { libc::setns(*fd, *nstype) }.into())
        }
        Step::JoinRoot(fd) => join_root(*fd),
        Step::JoinCgroup(procs) => join_cgroup(procs),
        Step::ForkAsSibling { pid_pipe } => fork_as_sibling(*pid_pipe),
        Step::TakeTerminal => take_terminal(),
        _ => Err(libc::EINVAL),
    }
}

// ANCHOR: become_root
/// Switches to uid and gid 0 of the user namespace. Raw system calls: glibc's `setuid`
/// family broadcasts to every thread it believes the process has, and this copy of a
/// multi-threaded parent has only one.
fn become_root(setgroups: bool) -> Result<(), i32> {
    // SAFETY: setresgid/setresuid take plain ids; setgroups with size 0 and a null list
    // clears the supplementary groups and reads no memory.
    unsafe {
        check(libc::syscall(libc::SYS_setresgid, 0, 0, 0))?;
        if setgroups {
            check(libc::syscall(
                libc::SYS_setgroups,
                0,
                std::ptr::null::<libc::gid_t>(),
            ))?;
        }
        check(libc::syscall(libc::SYS_setresuid, 0, 0, 0))
    }
}
// ANCHOR_END: become_root

// ANCHOR: await_time_offsets
/// Tells the parent the new time namespace exists (closing `ready` gives it end-of-file),
/// then waits for its byte on `resume`: offsets can only be written before any process
/// enters the namespace, and the child enters it later, in [`enter_time_namespace`].
fn await_time_offsets(
    ready: libc::c_int,
    resume: libc::c_int,
    unused: [libc::c_int; 2],
) -> Result<(), i32> {
    for fd in unused.into_iter().chain([ready]) {
        // SAFETY: our copies of the handshake pipes' other ends, used by nothing here.
        unsafe { libc::close(fd) };
    }
    let mut byte = 0u8;
    loop {
        // SAFETY: `resume` is the read end of a pipe the parent created; `byte` is a
        // live one-byte buffer.
        let n = unsafe { libc::read(resume, (&raw mut byte).cast(), 1) };
        match n {
            1 => return Ok(()),
            // The parent closed the pipe without the byte: it could not set the offsets.
            0 => return Err(libc::ECANCELED),
            _ if errno() == libc::EINTR => continue,
            _ => return Err(errno()),
        }
    }
}

/// Enters the time namespace created by `unshare(CLONE_NEWTIME)`: until now only this
/// process's future children would have been placed in it.
fn enter_time_namespace() -> Result<(), i32> {
    // SAFETY: static C string; the returned descriptor is ours to use and close.
    let fd = unsafe {
        libc::open(
            c"/proc/self/ns/time_for_children".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    check(fd.into())?;
    // SAFETY: `fd` is the namespace file opened above.
    let joined = check(unsafe { libc::setns(fd, libc::CLONE_NEWTIME) }.into());
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
    joined
}
// ANCHOR_END: await_time_offsets

// ANCHOR: loopback_up
/// `lo` exists in every new network namespace but is down; programs expect 127.0.0.1 to
/// answer. Same as `ip link set lo up`, with the older ioctl interface: one socket, one
/// read of the flags, one write.
fn loopback_up() -> Result<(), i32> {
    // SAFETY: socket takes plain integers; the descriptor it returns is ours.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(sock.into())?;
    let result = set_up(sock, c"lo");
    // SAFETY: `sock` is ours and not used after this.
    unsafe { libc::close(sock) };
    result
}

fn set_up(sock: libc::c_int, name: &CStr) -> Result<(), i32> {
    // SAFETY: an all-zero ifreq is a valid value (empty name, zero flags).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in req.ifr_name.iter_mut().zip(name.to_bytes()) {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: `req` is a live ifreq with a NUL-terminated name; SIOCGIFFLAGS fills in
    // its flags member.
    check(unsafe { libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) }.into())?;
    // SAFETY: after SIOCGIFFLAGS the union holds the flags, which we read and extend.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: `req` is the same live ifreq, now with IFF_UP set.
    check(unsafe { libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) }.into())
}
// ANCHOR_END: loopback_up

fn join_root(root: libc::c_int) -> Result<(), i32> {
    // SAFETY: `root` is the container's /proc/PID/root, opened by the parent.
    check(unsafe { libc::fchdir(root) }.into())?;
    // SAFETY: static C strings.
    check(unsafe { libc::chroot(c".".as_ptr()) }.into())?;
    // SAFETY: static C string.
    check(unsafe { libc::chdir(c"/".as_ptr()) }.into())
}

fn join_cgroup(procs: &CStr) -> Result<(), i32> {
    // SAFETY: `procs` is a NUL-terminated path owned by the plan.
    let fd = unsafe { libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd.into())?;
    // Writing 0 moves the writer itself; it works in cgroup v1 and v2 alike.
    // SAFETY: `fd` is open for writing and the buffer is one static byte.
    let written = unsafe { libc::write(fd, c"0".as_ptr().cast(), 1) };
    let result = check(written as libc::c_long);
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
    result
}

// ANCHOR: fork_as_sibling
/// Forks into the PID namespace joined by `setns`. The new process is made the caller's
/// child with `CLONE_PARENT`, so `vessel exec` waits on the command itself; this
/// intermediate process only reports the new pid and exits.
fn fork_as_sibling(pid_pipe: libc::c_int) -> Result<(), i32> {
    // SAFETY: the new process continues on a copy of this stack (no CLONE_VM) and runs
    // only the plan's remaining steps, which obey the same rules as this one.
    let pid = unsafe { crate::process::clone::clone3_sibling() };
    match pid {
        -1 => Err(errno()),
        0 => {
            // SAFETY: our copy of the pid pipe; the intermediate process writes to it.
            unsafe { libc::close(pid_pipe) };
            Ok(())
        }
        pid => {
            let bytes = (pid as libc::pid_t).to_ne_bytes();
            // SAFETY: `pid_pipe` is the write end the parent created for us; `bytes` is
            // a live 4-byte buffer (under PIPE_BUF, so written whole).
            unsafe { libc::write(pid_pipe, bytes.as_ptr().cast(), bytes.len()) };
            // SAFETY: _exit ends this intermediate process without running anything of
            // the parent's copied state.
            unsafe { libc::_exit(0) }
        }
    }
}
// ANCHOR_END: fork_as_sibling

// ANCHOR: take_terminal
/// A new session, with the terminal on stdin as its controlling terminal.
fn take_terminal() -> Result<(), i32> {
    // SAFETY: setsid takes no arguments; this process is not a group leader (it was
    // just cloned), so it succeeds.
    check(unsafe { libc::setsid() }.into())?;
    // SAFETY: fd 0 is the pty slave the parent installed; the argument 0 means "do not
    // steal it from another session".
    check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) }.into())
}
// ANCHOR_END: take_terminal
