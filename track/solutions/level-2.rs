//! # Level 2: a mount namespace, and a /proc of its own
//!
//! Your level-1 container shares the host's mount table: anything it mounts, the host
//! sees. A **mount namespace** gives it a copy of its own. Two steps make it safe: unshare
//! the namespace, then make every mount in it *private* (`MS_REC | MS_PRIVATE` on `/`), or
//! on a systemd host (where `/` is shared) new mounts still propagate back to the host.
//! Then mount a fresh `proc` on the container's `/proc`: every later level's checks read
//! `/proc/self/...` inside the container.
//!
//! ## Hints
//!
//! - `unshare(CloneFlags::CLONE_NEWNS)`, then `mount` with no source, target `"/"`, no
//!   type, flags `MsFlags::MS_REC | MsFlags::MS_PRIVATE`, no data (`None::<&str>`).
//! - Mount proc *after* the chroot, on `/proc`: source and type `"proc"`; the usual
//!   flags are `MS_NOSUID | MS_NODEV | MS_NOEXEC`.
//! - Only when `bundle.wants("mount")`: the suite sometimes asks for less.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-2
//! $ sudo vessel-conformance --runtime target/debug/level-2 \
//!       --filter mount.own-namespace,mount.container-mounts-stay-inside,mount.host-mounts-stay-outside
//! ```
//!
//! and the earlier levels' grades still pass (`track/README.md` lists them all).
//!
//! This is the reference solution: `level-3.rs` starts from it. The test
//! `track/tests/solutions.rs` grades it with the same command.

use std::convert::Infallible;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
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
    mounts(bundle)?;
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
