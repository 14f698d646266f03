//! # Level 3: a hostname of its own (UTS namespace)
//!
//! The hostname lives in the UTS namespace. Unshare a new one in the child (it starts as
//! a copy of the host's), then `sethostname(2)` changes only the container's name.
//!
//! ## Hints
//!
//! - `unshare(CloneFlags::CLONE_NEWUTS)` in the child, then `sethostname(name)` when
//!   `bundle.hostname` is `Some(name)`. Only when `bundle.wants("uts")`.
//! - Without the unshare, `sethostname` renames the *host*: the check
//!   `uts.host-hostname-untouched` is there to catch exactly that.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-3
//! $ sudo vessel-conformance --runtime target/debug/level-3 \
//!       --filter uts.
//! ```
//!
//! and the earlier levels' grades still pass (`track/README.md` lists them all).
//!
//! This is the reference solution: `level-4.rs` starts from it. The test
//! `track/tests/solutions.rs` grades it with the same command.

use std::convert::Infallible;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{ForkResult, Pid, chdir, chroot, execve, fork, sethostname};
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
    mounts(bundle)?;
    uts(bundle)?;
    chroot(&bundle.root)?;
    chdir(&bundle.cwd)?;
    proc(bundle)?;
    Ok(execve(&bundle.args[0], &bundle.args, &bundle.env)?)
}

/// Level 2: a mount table of its own, whose mounts never reach the host.
fn mounts(bundle: &Bundle) -> Result<()> {
    if bundle.wants("mount") {
        unshare(CloneFlags::CLONE_NEWNS)?;
        let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        mount(None::<&str>, "/", None::<&str>, private, None::<&str>)?;
    }
    Ok(())
}

/// Level 2: a `/proc` of the container's own, mounted after the chroot.
fn proc(bundle: &Bundle) -> Result<()> {
    if bundle.wants("mount") {
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)?;
    }
    Ok(())
}

/// Level 3: a hostname of its own.
fn uts(bundle: &Bundle) -> Result<()> {
    if bundle.wants("uts") {
        unshare(CloneFlags::CLONE_NEWUTS)?;
        if let Some(name) = &bundle.hostname {
            sethostname(name)?;
        }
    }
    Ok(())
}
