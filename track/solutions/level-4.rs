//! # Level 4: PID 1 again (PID namespace)
//!
//! A new PID namespace numbers its processes from 1. `unshare(CLONE_NEWPID)` is special:
//! it does not move the caller, only the children it forks *afterwards*. So it belongs in
//! the parent, before the `fork`: the child becomes PID 1 of the new namespace, and the
//! `/proc` it mounts (level 2) shows only its own processes.
//!
//! ## Hints
//!
//! - `unshare(CloneFlags::CLONE_NEWPID)` in `start`, before the `fork`, when
//!   `bundle.wants("pid")`. The runtime itself stays in the host's namespace; its next
//!   child is PID 1.
//! - The pid `fork` returns is the child's pid in *your* namespace (the host's): that is the
//!   one the harness records for `kill` and `state`.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-4
//! $ sudo vessel-conformance --runtime target/debug/level-4 \
//!       --filter pid.
//! ```
//!
//! and the earlier levels' grades still pass (`track/README.md` lists them all).
//!
//! This is the reference solution: `level-5.rs` starts from it. The test
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
