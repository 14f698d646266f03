//! Every signal back to its default action, for a process about to run someone else's
//! program: the container's command (the child's `ResetSignals` step) and the command
//! `vessel-init` starts.
//!
//! An ignored signal (`SIG_IGN`) survives `fork` and `execve`, and POSIX shells cannot
//! even `trap` a signal that was ignored when they started. So a vessel started under
//! `nohup` (SIGHUP ignored) or from a shell's background job (SIGINT, SIGQUIT ignored)
//! would hand those on, and `kill -INT` would never reach the command. Handlers need no
//! reset: `execve` turns them back to the default itself.
//!
//! This file uses only `core` and one C library call declared here, because
//! `core/build.rs` compiles `src/bin/vessel-init.rs` on its own, as a static binary
//! without the `libc` crate, and that file includes this one by path. It is also called
//! between `clone3` and `execve`, so it allocates nothing and calls only `signal`, which
//! is async-signal-safe.

use core::ffi::c_int;

/// `SIG_DFL`, the default action, as the C library spells it (a null handler).
const SIG_DFL: usize = 0;

/// The highest signal number on Linux (`_NSIG - 1`): the real-time signals end there.
const LAST_SIGNAL: c_int = 64;

unsafe extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
}

/// Sets every signal's action to the default. SIGKILL and SIGSTOP, and the real-time
/// signals the C library keeps for itself, refuse with EINVAL: that is fine, their action
/// is not ours to change.
pub fn reset_dispositions() {
    for signum in 1..=LAST_SIGNAL {
        // SAFETY: signal() only changes this process's action for `signum`; SIG_DFL
        // installs no handler, so no code of ours can run because of it.
        unsafe { signal(signum, SIG_DFL) };
    }
}
