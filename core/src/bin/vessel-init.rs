//! `vessel-init PROGRAM [ARGS…]`: the smallest useful PID 1, for `vessel run --init`.
//!
//! The first process of a PID namespace is special twice over. The kernel delivers it
//! only the signals it has a handler for (a shell running as PID 1 never dies of
//! SIGTERM), and every orphan in the namespace becomes its child, so it must reap them or
//! they stay zombies. Most programs were not written to be PID 1. This one is, and does
//! nothing else:
//!
//! 1. block every signal it forwards, so they queue instead of being delivered (the
//!    kernel never drops a *blocked* signal, even for a namespace's init);
//! 2. start PROGRAM as its only direct child, with an empty signal mask and every signal
//!    at its default action (an ignored one — `nohup`'s SIGHUP, a background job's
//!    SIGINT — would otherwise reach PROGRAM ignored, and a shell cannot even trap it);
//! 3. loop on `sigwaitinfo`: SIGCHLD means "reap every child that has exited"; any other
//!    signal is sent on to PROGRAM;
//! 4. when PROGRAM has exited, exit the same way: its code, or 128+n if signal n killed it.
//!
//! No signal handler runs any code here: signals are read synchronously, one at a time.
//!
//! It uses only `std`, a few libc calls declared by hand, and `src/process/child/signal_defaults.rs`
//! (included by path, shared with the container's child), so that `core/build.rs` can
//! compile this file on its own into a static binary that runs in any rootfs.

#[path = "../process/child/signal_defaults.rs"]
mod signal_defaults;

use std::ffi::c_int;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};

/// glibc's `sigset_t` on Linux: 1024 bits.
#[repr(C)]
struct SigSet([u64; 16]);

unsafe extern "C" {
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigdelset(set: *mut SigSet, signal: c_int) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwaitinfo(set: *const SigSet, info: *mut u8) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, signal: c_int) -> c_int;
    fn prctl(option: c_int, ...) -> c_int;
}

const SIG_SETMASK: c_int = 2;
const WNOHANG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;
const SIGCHLD: c_int = 17;
/// Signals left unblocked: the synchronous ones a fault raises in this process itself
/// (blocking those makes the kernel kill it outright), and the terminal stop signals
/// (SIGTTIN, SIGTTOU), which only make sense for the process that touched the terminal.
const NOT_FORWARDED: [c_int; 9] = [
    4,  // SIGILL
    5,  // SIGTRAP
    6,  // SIGABRT
    7,  // SIGBUS
    8,  // SIGFPE
    11, // SIGSEGV
    21, // SIGTTIN
    22, // SIGTTOU
    31, // SIGSYS
];

fn main() {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "--") {
        args.next();
    }
    let Some(program) = args.next() else {
        eprintln!("usage: vessel-init [--] PROGRAM [ARGS...]");
        std::process::exit(125);
    };
    // ANCHOR: block
    let forwarded = forwarded_signals();
    // SAFETY: `forwarded` is a filled-in sigset_t; the old mask is not asked for. This
    // process has one thread, so the process mask is the thread's mask.
    if unsafe { sigprocmask(SIG_SETMASK, &forwarded, std::ptr::null_mut()) } != 0 {
        fail("sigprocmask", std::io::Error::last_os_error());
    }
    // Orphans come to us even when we are not PID 1 (e.g. run by hand on the host).
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument and touches no memory.
    unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1 as std::ffi::c_ulong) };
    // ANCHOR_END: block

    let mut command = Command::new(&program);
    command.args(args);
    // SAFETY: the closure runs in the forked child before exec and only calls
    // sigemptyset, sigprocmask and signal, which are async-signal-safe; `empty` is its own.
    unsafe {
        command.pre_exec(|| {
            let mut empty = SigSet([0; 16]);
            sigemptyset(&mut empty);
            // The program must not inherit our blocked mask: it would never see a signal.
            sigprocmask(SIG_SETMASK, &empty, std::ptr::null_mut());
            // Nor the dispositions we were started with: an ignored SIGINT stays ignored
            // across exec, and a shell cannot trap it.
            signal_defaults::reset_dispositions();
            Ok(())
        });
    }
    let child = match command.spawn() {
        Ok(child) => child.id() as c_int,
        Err(error) => {
            eprintln!(
                "vessel-init: cannot run {}: {error}",
                program.to_string_lossy()
            );
            // docker's codes: 127 not found, 126 found but not executable.
            std::process::exit(match error.kind() {
                std::io::ErrorKind::NotFound => 127,
                std::io::ErrorKind::PermissionDenied => 126,
                _ => 125,
            });
        }
    };
    let status = supervise(child, &forwarded);
    std::process::exit(exit_code(status));
}

/// Every signal but the ones in [`NOT_FORWARDED`] (SIGKILL and SIGSTOP cannot be blocked
/// at all; sigprocmask leaves them out silently).
fn forwarded_signals() -> SigSet {
    let mut set = SigSet([0; 16]);
    // SAFETY: `set` is a valid sigset_t to fill in, and each number is a valid signal.
    unsafe {
        sigfillset(&mut set);
        for signal in NOT_FORWARDED {
            sigdelset(&mut set, signal);
        }
    }
    set
}

// ANCHOR: supervise
/// Waits for signals one at a time until `child` has exited; returns its status.
fn supervise(child: c_int, forwarded: &SigSet) -> ExitStatus {
    loop {
        // SAFETY: `forwarded` is a valid sigset_t and is blocked in this process (as
        // sigwaitinfo requires); no siginfo is asked for.
        let signal = unsafe { sigwaitinfo(forwarded, std::ptr::null_mut()) };
        if signal < 0 {
            continue; // EINTR: a stop/continue interrupted the wait.
        }
        if signal == SIGCHLD {
            // One SIGCHLD may stand for many exits: reap until none is left.
            if let Some(status) = reap_all(child) {
                return status;
            }
        } else {
            // SAFETY: kill only sends a signal; `child` is our own unreaped child, so its
            // pid cannot have been reused.
            unsafe { kill(child, signal) };
        }
    }
}

/// Reaps every exited child (the program and any orphan handed to us); returns the
/// program's status if it was among them.
fn reap_all(child: c_int) -> Option<ExitStatus> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid place for waitpid to write the status into.
        let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
        if pid <= 0 {
            return found; // 0: children left but none exited; -1: no children at all.
        }
        if pid == child {
            found = Some(ExitStatus::from_raw(status));
        }
    }
}
// ANCHOR_END: supervise

/// The shell's convention: the exit code, or 128+n for death by signal n.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(125)
}

fn fail(call: &str, error: std::io::Error) -> ! {
    eprintln!("vessel-init: {call}: {error}");
    std::process::exit(125)
}
