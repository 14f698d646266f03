//! The two helpers every child step shares: read `errno`, and turn a `-1` into it.
//! Async-signal-safe, like everything in [`crate::process::child`] that calls them.

/// The calling thread's `errno` (the steps in [`crate::process::child::namespaces`], [`crate::process::child::capabilities`]
/// and [`crate::tty::console`] report it too).
pub fn errno() -> i32 {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid to read.
    unsafe { *libc::__errno_location() }
}

/// Turns a `-1` return into the current errno.
pub fn check(ret: libc::c_long) -> Result<(), i32> {
    if ret == -1 { Err(errno()) } else { Ok(()) }
}
