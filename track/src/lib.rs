//! The harness of the build-it-yourself track: everything an OCI runtime needs that is
//! *not* the lesson. It reads the command line the way runc's is spelled
//! (`run --bundle DIR ID`, `state ID`, `kill ID SIGNAL`, `delete [--force] ID`), reads the
//! bundle's `config.json`, records the container's pid for `state` and `kill`, waits for
//! the container and exits with its code. Each level (`src/bin/level-N.rs`) only writes
//! `start`: the few system calls that make an ordinary process a container.
//!
//! That is enough for `vessel-conformance --runtime PATH` to drive it like runc, and grade
//! each level with the checks of its kernel feature (see `GRADES`).

mod bundle;
mod state;

use std::convert::Infallible;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

pub use bundle::{Bundle, Limits};

/// Any error, with a message for the learner.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

// ANCHOR: grades
/// What "check your work" runs for each level: the conformance checks whose names
/// contain one of these (`vessel-conformance --filter A,B,…`). Each level is graded on
/// its own feature; a later level must still pass the earlier grades.
pub const GRADES: [(&str, &str); 6] = [
    (
        "level-1",
        "process.exit-code-propagates,process.killed-is-128,mount.root-is-rootfs",
    ),
    (
        "level-2",
        "mount.own-namespace,mount.container-mounts-stay-inside,mount.host-mounts-stay-outside",
    ),
    ("level-3", "uts."),
    ("level-4", "pid."),
    (
        "level-5",
        "mount.old-root-unreachable,mount.chroot-breakout-fails",
    ),
    ("level-6", "cgroup.memory-oom-kill,cgroup.pids-max-enforced"),
];
// ANCHOR_END: grades

/// The `main` of every level: dispatches the command line; `start` makes the container
/// and returns its pid.
pub fn main(start: fn(&Bundle) -> Result<Pid>) -> ! {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map_or("track", |a| a.rsplit('/').next().unwrap_or(a));
    let words: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let result = match words.as_slice() {
        ["run", "--bundle", dir, id] => run(program, dir, id, start),
        ["state", id] => state::print(program, id).map(|()| 0),
        ["kill", id, signal] => state::kill(program, id, signal).map(|()| 0),
        ["delete", id] | ["delete", "--force", id] => state::delete(program, id).map(|()| 0),
        _ => Err(format!(
            "usage: {program} run --bundle DIR ID | state ID | kill ID SIGNAL | delete [--force] ID"
        )
        .into()),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("{program}: {e}");
            std::process::exit(125)
        }
    }
}

/// The pipe on which the forked child waits until `run` has recorded its pid: without it,
/// the container could already run (and be asked to `kill` itself) before `state` knows it.
static GO_READ: AtomicI32 = AtomicI32::new(-1);
static GO_WRITE: AtomicI32 = AtomicI32::new(-1);

/// `run`: start, record the pid, let the child go, wait, clean up, and return the
/// container's exit code.
fn run(program: &str, dir: &str, id: &str, start: fn(&Bundle) -> Result<Pid>) -> Result<i32> {
    let bundle = Bundle::load(dir.as_ref())?;
    // Close-on-exec: neither end reaches the container's command.
    let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    GO_READ.store(std::os::fd::AsRawFd::as_raw_fd(&go_read), Ordering::SeqCst);
    GO_WRITE.store(std::os::fd::AsRawFd::as_raw_fd(&go_write), Ordering::SeqCst);
    let pid = start(&bundle)?;
    drop(go_read);
    state::record(program, id, pid, dir)?;
    nix::unistd::write(&go_write, b"g")?;
    drop(go_write);
    let code = wait_for(pid);
    state::delete(program, id)?;
    remove_cgroup(&bundle);
    code
}

/// After the container: removes its cgroup directories, if a level made them (level 6).
/// The container's processes are all gone, so each is an empty cgroup `rmdir` takes.
fn remove_cgroup(bundle: &Bundle) {
    let Some(path) = &bundle.cgroups_path else {
        return;
    };
    let relative = path.strip_prefix("/").unwrap_or(path);
    let root = std::path::Path::new("/sys/fs/cgroup");
    let mut dirs = vec![root.join(relative)];
    // v1: one hierarchy per directory of /sys/fs/cgroup (v2 has its cgroup.controllers).
    let v1 = !root.join("cgroup.controllers").exists();
    if let Ok(hierarchies) = std::fs::read_dir(root).map(|d| d.filter(|_| v1)) {
        dirs.extend(hierarchies.flatten().map(|h| h.path().join(relative)));
    }
    for dir in dirs {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Waits for the container's process: its exit code, or 128 + the signal that killed it.
fn wait_for(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(format!("waitpid({pid}): {e}").into()),
        }
    }
}

/// In the child: waits until the parent has recorded the pid (one byte on the pipe).
fn wait_for_go() -> Result<()> {
    let (read, write) = (
        GO_READ.load(Ordering::SeqCst),
        GO_WRITE.load(Ordering::SeqCst),
    );
    // SAFETY: the fds are the pipe `run` made before `fork`; this child owns its copies and
    // closes its write end, so a parent that dies before writing gives end-of-file.
    unsafe { libc::close(write) };
    let mut byte = [0u8; 1];
    // SAFETY: `byte` is a valid one-byte buffer for read(2).
    let n = unsafe { libc::read(read, byte.as_mut_ptr().cast(), 1) };
    // SAFETY: as above; the read end is not needed after this.
    unsafe { libc::close(read) };
    if n == 1 {
        Ok(())
    } else {
        Err("the runtime ended before the container could start".into())
    }
}

/// Runs the child's part after `fork`: `enter` ends in `execve`, so it only returns on an
/// error, which is printed; the child then exits as docker's does (127 not found, 126 not
/// executable, 125 any other step).
pub fn child(enter: impl FnOnce() -> Result<Infallible>) -> ! {
    let Err(error) = wait_for_go().and_then(|()| enter());
    eprintln!("container: {error}");
    let code = match error.downcast_ref::<Errno>() {
        Some(Errno::ENOENT) => 127,
        Some(Errno::EACCES | Errno::ENOEXEC) => 126,
        _ => 125,
    };
    // SAFETY: _exit ends this forked child at once, without running the parent's atexit
    // handlers or flushing stdio buffers it copied from the parent.
    unsafe { libc::_exit(code) }
}
