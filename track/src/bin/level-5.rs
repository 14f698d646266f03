//! # Level 5: leaving the host behind (pivot_root)
//!
//! `chroot` only changes where *path lookups* start: the host's root is still mounted in
//! the container's mount table, and a process with `CAP_SYS_CHROOT` can walk back out
//! (chroot into a subdirectory, then `..` past the old root: the classic breakout).
//! `pivot_root(2)` changes the root *mount* of the mount namespace instead: the rootfs
//! becomes `/`, the host's root is moved aside, and once that is unmounted nothing of
//! the host is left to climb back to.
//!
//! ## Hints
//!
//! - Write `pivot` below, and in `enter` call `pivot(bundle)?` instead of the `chroot`
//!   line when `bundle.wants("mount")` (pivot_root changes the root of the *mount
//!   namespace*: without a namespace of its own that would be the host's). Keep
//!   `chroot` for a bundle without a mount namespace.
//! - `pivot_root` wants the new root to be a mount point: bind-mount `bundle.root` onto
//!   itself first (`MS_BIND | MS_REC`). Level 2's private propagation is what makes the
//!   next steps invisible to the host.
//! - `chdir` into the new root, then `pivot_root(".", ".")`: the old root ends up stacked
//!   on top of the new one at `/`. `umount2(".", MntFlags::MNT_DETACH)` takes it away.
//!   `chdir("/")` afterwards.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-5
//! $ sudo vessel-conformance --runtime target/debug/level-5 \
//!       --filter mount.old-root-unreachable,mount.chroot-breakout-fails
//! ```
//!
//! and the earlier levels' grades still pass (`track/README.md` lists them all).
//!
//! (It starts from level 4's solution; the `todo!()`s are yours.)

// The todo!()s leave a parameter or an import unused until you fill them in.
#![allow(unused_variables, unused_imports, unreachable_code, dead_code)]

use std::convert::Infallible;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{ForkResult, Pid, chdir, chroot, execve, fork, pivot_root, sethostname};
use track::{Bundle, Result};

fn main() {
    track::main(start)
}

/// Starts the container's first process; returns its pid for the harness to wait for.
fn start(bundle: &Bundle) -> Result<Pid> {
    pid_namespace(bundle)?;
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

/// Level 4: the next child forked is PID 1 of a new PID namespace.
fn pid_namespace(bundle: &Bundle) -> Result<()> {
    if bundle.wants("pid") {
        unshare(CloneFlags::CLONE_NEWPID)?;
    }
    Ok(())
}

/// Level 5: the rootfs becomes the root mount, and the host's old root is detached.
fn pivot(bundle: &Bundle) -> Result<()> {
    todo!("level 5: bind, pivot_root, detach the old root; then call it from enter (hints)")
}
