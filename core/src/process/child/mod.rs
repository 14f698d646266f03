//! The child's side of the process model: wait for the parent, run the plan, `execve`.
//!
//! Everything here runs between `clone` and `execve` in a copy of a possibly
//! multi-threaded parent. Only async-signal-safe system calls are allowed: no allocation
//! (another thread may have held the allocator's lock at the moment of the clone), no
//! locks, no panics, no logging. Every path ends in `execve` or `_exit`.

pub mod capabilities;
pub mod hooks;
pub mod mounts;
pub mod namespaces;
pub mod security;
pub mod signal_defaults;

use std::ffi::CStr;
use std::os::fd::RawFd;

use crate::process::child::mounts::ChildFds;
use crate::process::pipe::{ChildEnds, StepFailure};
use crate::process::plan::step::{ExecStep, Plan, Step};
use crate::process::trace;
use crate::sys::errno::{check, errno};

/// Exit status of a child that failed before `execve` (the parent reports the real reason).
const SETUP_FAILED: libc::c_int = 125;

// ANCHOR: child_run
/// Runs in the child right after `clone3` returned 0. Runs every step of `plan`, waiting
/// for the parent to finish its side of the set-up at the plan's `AwaitParent` (or
/// before the first step if it has none); never returns.
pub fn run(plan: &Plan, ends: ChildEnds) -> ! {
    for fd in ends.unused {
        // SAFETY: these are the parent's ends of the two pipes, copied into this process
        // by clone and used by nothing here. Closing them makes end-of-file on the go pipe
        // mean "the parent is gone".
        unsafe { libc::close(fd) };
    }
    let mut report_fd = Some(ends.report);
    // Where the plan has no place for the parent's go, it comes before everything.
    let gate_in_plan = plan.steps.iter().any(|s| matches!(s, Step::AwaitParent));
    if !gate_in_plan && !wait_for_parent(ends.go) {
        exit(SETUP_FAILED);
    }
    // The descriptors mount steps hand to later ones (the root, the fresh /dev).
    let mut fds = ChildFds::new();
    // After `start`, failures are numbered from the step after the wait (`vessel start`
    // has no plan to look the index up in).
    let mut numbered_from = 0;
    let mut started = false;
    for (index, step) in plan.steps.iter().enumerate() {
        if let Some(trace_fd) = ends.trace {
            trace::record_step(trace_fd, index);
        }
        if let Step::AwaitParent = step {
            if !wait_for_parent(ends.go) {
                exit(SETUP_FAILED);
            }
            continue;
        }
        if let Step::AwaitStart { fifo, reply } = step {
            // `vessel create` is told "ready" by end-of-file, then may exit.
            if let Some(fd) = report_fd.take() {
                // SAFETY: our own write end of the report pipe, used by nothing else.
                unsafe { libc::close(fd) };
            }
            if !await_start(*fifo) {
                exit(SETUP_FAILED);
            }
            // `vessel start` reads this one (with startContainer hooks) until execve.
            report_fd = *reply;
            numbered_from = index + 1;
            started = true;
            continue;
        }
        // A hook that ran and failed also tells its wait status.
        let failed = match step {
            Step::Hook(hook) => hooks::run(hook).err().map(|f| (f.errno, f.status)),
            _ => run_step(step, &mut fds).err().map(|errno| (errno, 0)),
        };
        if let Some((errno, status)) = failed {
            if let Some(fd) = report_fd {
                report(fd, index.saturating_sub(numbered_from), errno, status);
            }
            // After `start` the exit code says it too, as docker's.
            if started && let Step::Exec(_) = step {
                exit(match errno {
                    libc::ENOENT => 127,
                    _ => 126,
                });
            }
            exit(SETUP_FAILED);
        }
    }
    // The last step is `Exec`, which only returns on failure, and that was reported above.
    exit(SETUP_FAILED)
}
// ANCHOR_END: child_run

/// Blocks until the parent writes its one "go" byte. End-of-file means the parent gave
/// up (or died) before finishing the set-up, so the child must not go on.
fn wait_for_parent(go_fd: RawFd) -> bool {
    let mut byte = 0u8;
    loop {
        // SAFETY: `go_fd` is the read end of the pipe the parent created for us, still
        // open in this process; `byte` is a valid one-byte buffer we own.
        let n = unsafe { libc::read(go_fd, (&raw mut byte).cast(), 1) };
        if n == 1 {
            return true;
        }
        if n == 0 || errno() != libc::EINTR {
            return false;
        }
    }
}

/// Blocks until `vessel start` writes its byte to the exec fifo (`fifo` is opened
/// read-write, so there is always a writer and the read never sees end-of-file), then
/// closes it. `false` if the read fails.
fn await_start(fifo: RawFd) -> bool {
    let mut byte = 0u8;
    loop {
        // SAFETY: `fifo` is the exec fifo the parent opened for us (close-on-exec);
        // `byte` is a valid one-byte buffer we own.
        let n = unsafe { libc::read(fifo, (&raw mut byte).cast(), 1) };
        if n == 1 {
            // SAFETY: our own descriptor, closed once and never used again.
            unsafe { libc::close(fifo) };
            return true;
        }
        if n == 0 || errno() != libc::EINTR {
            return false;
        }
    }
}

fn report(report_fd: RawFd, index: usize, errno: i32, status: i32) {
    let failure = StepFailure {
        step: u32::try_from(index).unwrap_or(u32::MAX),
        errno,
        status,
    };
    let bytes = failure.to_bytes();
    // SAFETY: `report_fd` is the write end of the report pipe, open in this process;
    // `bytes` is a live buffer of `StepFailure::SIZE` bytes. A short or failed write
    // leaves the parent to see a setup failure without details, which it handles.
    unsafe { libc::write(report_fd, bytes.as_ptr().cast(), bytes.len()) };
}

fn exit(code: libc::c_int) -> ! {
    // SAFETY: `_exit` ends the process at once without running atexit handlers or
    // flushing stdio buffers copied from the parent, which is what a forked child must do.
    unsafe { libc::_exit(code) }
}

fn ptr(s: &CStr) -> *const libc::c_char {
    s.as_ptr()
}

fn run_step(step: &Step, fds: &mut ChildFds) -> Result<(), i32> {
    match step {
        Step::Dup2 { from, to } if from == to => {
            // SAFETY: F_SETFD with 0 only clears close-on-exec on a descriptor we hold.
            check(unsafe { libc::fcntl(*to, libc::F_SETFD, 0) }.into())
        }
        Step::Dup2 { from, to } => {
            // SAFETY: `from` is a descriptor the caller lent us for the spawn; dup2
            // replaces `to` atomically and leaves the copy without close-on-exec.
            check(unsafe { libc::dup2(*from, *to) }.into())
        }
        Step::ResetSignals => reset_signals(),
        Step::SetUmask(mask) => {
            // SAFETY: umask only swaps the process's file mode mask; it cannot fail.
            unsafe { libc::umask(*mask) };
            Ok(())
        }
        Step::MakeMountsPrivate => {
            // SAFETY: all pointers are null or point to static C strings.
            let ret = unsafe {
                libc::mount(
                    std::ptr::null(),
                    ptr(c"/"),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                )
            };
            check(ret.into())
        }
        Step::BindRootOntoItself(root) => {
            // SAFETY: `root` is a NUL-terminated string owned by the plan, which outlives
            // this call; the other pointers are null as mount(2) allows for bind mounts.
            let ret = unsafe {
                libc::mount(
                    ptr(root),
                    ptr(root),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
            };
            check(ret.into())
        }
        Step::MountOverlay(overlay) => overlay.mount(),
        Step::OpenRoot(_)
        | Step::Mount(_)
        | Step::CharDevice { .. }
        | Step::Symlink { .. }
        | Step::Mknod { .. }
        | Step::ReadOnlyPath(_)
        | Step::MaskPath(_)
        | Step::MakeRootReadOnly => crate::process::child::mounts::run_step(step, fds),
        Step::PivotRoot(root) => pivot_root(root),
        Step::DetachOldRoot => detach_old_root(),
        // ANCHOR: chroot
        Step::Chroot(root) => {
            // Only path lookup changes: the old root stays mounted, just out of sight.
            // SAFETY: `root` is a NUL-terminated string owned by the plan.
            check(unsafe { libc::chroot(ptr(root)) }.into())?;
            // SAFETY: static C string.
            check(unsafe { libc::chdir(ptr(c"/")) }.into())
        }
        // ANCHOR_END: chroot
        // ANCHOR: sethostname
        Step::SetHostname(name) => {
            // Changes the hostname of the UTS namespace this process is in: its own.
            let bytes = name.as_bytes();
            // SAFETY: the pointer and length describe the plan's hostname bytes.
            check(unsafe { libc::sethostname(bytes.as_ptr().cast(), bytes.len()) }.into())
        }
        // ANCHOR_END: sethostname
        Step::Chdir(dir) => {
            // SAFETY: `dir` is a NUL-terminated string owned by the plan.
            check(unsafe { libc::chdir(ptr(dir)) }.into())
        }
        Step::BecomeRoot { .. }
        | Step::Unshare(_)
        | Step::AwaitTimeOffsets { .. }
        | Step::EnterTimeNamespace
        | Step::LoopbackUp
        | Step::SetNs { .. }
        | Step::JoinRoot(_)
        | Step::JoinCgroup(_)
        | Step::ForkAsSibling { .. }
        | Step::TakeTerminal => crate::process::child::namespaces::run_step(step),
        Step::OpenTerminal(request) => crate::tty::console::open_in_child(request),
        Step::Security(step) => crate::process::child::security::run_step(step),
        Step::DropBoundingCapability(_)
        | Step::SetCapabilities { .. }
        | Step::ClearAmbientCapabilities
        | Step::RaiseAmbientCapability(_) => crate::process::child::capabilities::run_step(step),
        // Handled by `run`, which owns the report pipe.
        Step::AwaitStart { .. } | Step::AwaitParent | Step::Hook(_) => Ok(()),
        Step::Exec(exec) => Err(execute(exec)),
    }
}

// ANCHOR: pivot_root
/// Makes `root` the root of this mount namespace. `pivot_root(".", ".")` stacks the old
/// root on top of the new one at `/`; the next step detaches it, so no directory for the
/// old root is needed inside the image (see pivot_root(2), NOTES).
fn pivot_root(root: &CStr) -> Result<(), i32> {
    // SAFETY: `root` is a NUL-terminated string owned by the plan.
    check(unsafe { libc::chdir(ptr(root)) }.into())?;
    // SAFETY: pivot_root takes two path strings; both are static C strings.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, ptr(c"."), ptr(c".")) })
}

/// Lazily unmounts the old root that `pivot_root` left on top of `/`: after this no path
/// in the container leads back to the host's filesystem.
fn detach_old_root() -> Result<(), i32> {
    // SAFETY: static C string; MNT_DETACH is a valid umount2 flag.
    check(unsafe { libc::umount2(ptr(c"."), libc::MNT_DETACH) }.into())?;
    // SAFETY: static C string.
    check(unsafe { libc::chdir(ptr(c"/")) }.into())
}
// ANCHOR_END: pivot_root

fn reset_signals() -> Result<(), i32> {
    // SAFETY: an all-zero sigset_t is a valid (empty) set; the pointer is to this local.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        check(libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()).into())?;
    }
    // The same reset vessel-init gives its command (one implementation for both).
    crate::process::child::signal_defaults::reset_dispositions();
    Ok(())
}

/// Tries each candidate path like `execvp` does and returns the errno worth reporting:
/// `EACCES` if any candidate existed but was not executable, else the last error.
fn execute(exec: &ExecStep) -> i32 {
    let mut worth_reporting = libc::ENOENT;
    for candidate in &exec.candidates {
        // SAFETY: `candidate` is a NUL-terminated string, and `argv`/`envp` are
        // null-terminated arrays of pointers into strings the plan owns; all outlive
        // this call (execve only returns on failure).
        unsafe { libc::execve(ptr(candidate), exec.argv.as_ptr(), exec.envp.as_ptr()) };
        match errno() {
            libc::EACCES => worth_reporting = libc::EACCES,
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ELOOP => {
                if worth_reporting != libc::EACCES {
                    worth_reporting = libc::ENOENT;
                }
            }
            other => return other,
        }
    }
    worth_reporting
}

#[cfg(test)]
mod tests {
    use super::StepFailure;

    #[test]
    fn a_step_failure_survives_the_pipe_encoding() {
        let failure = StepFailure {
            step: 7,
            errno: libc::EINVAL,
            status: 3 << 8,
        };
        assert_eq!(StepFailure::from_bytes(failure.to_bytes()), failure);
    }
}
