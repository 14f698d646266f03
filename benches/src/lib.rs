//! Shared pieces of vessel's criterion benchmarks.
//!
//! * [`floor`]: the cheapest possible start of a process, `clone3` + `execve` + `waitpid`,
//!   alone and inside each namespace type: the baseline vessel is compared with;
//! * [`overlay`]: overlay mounts on throw-away directories for the copy-up benchmarks.
//!
//! Everything here needs root; [`require_root`] explains and exits otherwise.

pub mod floor;
pub mod overlay;

/// Exits with a clear message unless running as root.
pub fn require_root(bench: &str) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("{bench} creates namespaces and mounts, which needs root: run it as root");
        std::process::exit(2);
    }
}
