//! # Level 1: fork, chroot and exec
//!
//! A container starts as an ordinary process. The runtime `fork`s; the child changes
//! what it will see, then `execve`s the container's command, and the parent waits for it
//! and reports its exit code. At this level the only change is the root directory:
//! `chroot(2)` makes path lookups start at the bundle's root filesystem, so the command
//! (`/vessel-probe` in the conformance suite's bundles) is found *inside* it.
//!
//! The harness (`track/src/lib.rs`) already reads `config.json` into a `Bundle`, records
//! the pid, waits and exits with the container's code; you write the child's part.
//!
//! ## Hints
//!
//! - `nix::unistd::chroot(&bundle.root)`, then `chdir(&bundle.cwd)`: a chroot without a
//!   chdir leaves the current directory outside the new root.
//! - `nix::unistd::execve(&bundle.args[0], &bundle.args, &bundle.env)`: `args[0]` is a path
//!   inside the root, so exec only after the chroot. It returns only on an error: `?` it.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-1
//! $ sudo vessel-conformance --runtime target/debug/level-1 \
//!       --filter process.exit-code-propagates,process.killed-is-128,mount.root-is-rootfs
//! ```
//!
//! Every check must say `ok`; `track/README.md` lists every level's grade.
//!
//! This is the reference solution: `level-2.rs` starts from it. The test
//! `track/tests/solutions.rs` grades it with the same command.

use std::convert::Infallible;

use nix::unistd::{ForkResult, Pid, chdir, chroot, execve, fork};
use track::{Bundle, Result};

fn main() {
    track::main(start)
}

/// Starts the container's first process; returns its pid for the harness to wait for.
fn start(bundle: &Bundle) -> Result<Pid> {
    // SAFETY: the runtime is single-threaded, so the forked child may run any code.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => track::child(|| enter(bundle)),
    }
}

/// In the child: make this process the container, then become its command.
fn enter(bundle: &Bundle) -> Result<Infallible> {
    chroot(&bundle.root)?;
    chdir(&bundle.cwd)?;
    Ok(execve(&bundle.args[0], &bundle.args, &bundle.env)?)
}
