//! # Level 6: limits (cgroups)
//!
//! A cgroup is a directory, a limit is a number written to a file in it, and a process
//! joins by writing its pid to `cgroup.procs`. The bundle names the container's cgroup
//! (`bundle.cgroups_path`, a path from each hierarchy's root) and its limits
//! (`bundle.limits`); the runtime makes the directory, writes the limits, and moves the
//! child in *before* it runs the command (it is still waiting for the harness's go).
//!
//! ## Hints
//!
//! - Write `cgroup` below, and call it in `start`'s parent arm before returning the
//!   child's pid: `ForkResult::Parent { child } => { cgroup(bundle, child)?; Ok(child) }`.
//! - Where: cgroup v1 has one hierarchy per controller (`/sys/fs/cgroup/memory/…`,
//!   `/sys/fs/cgroup/pids/…`, `/sys/fs/cgroup/cpu/…`, `/sys/fs/cgroup/cpuacct/…`); v2 one
//!   for all (`/sys/fs/cgroup/…`, which has a `cgroup.controllers` file). Make the
//!   directory in each with `create_dir_all`; the grade reads all four.
//! - What: v1 `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes` to the same
//!   value where it exists: no swap), `cpu.cfs_period_us` then `cpu.cfs_quota_us`,
//!   `pids.max`; v2 `memory.max`, `cpu.max` (`"QUOTA PERIOD"`), `pids.max`. On v2 a
//!   parent must first hand the controllers down: `+memory +cpu +pids` into each new
//!   ancestor's `cgroup.subtree_control`.
//! - Who: the child's pid into `cgroup.procs` of each directory. The harness removes
//!   the directories after the container exits.
//!
//! ## Check your work
//!
//! ```console
//! $ cargo build -p vessel-track --bin level-6
//! $ sudo vessel-conformance --runtime target/debug/level-6 \
//!       --filter cgroup.memory-oom-kill,cgroup.cpu-quota-enforced,cgroup.pids-max-enforced
//! ```
//!
//! and the earlier levels' grades still pass (`track/README.md` lists them all).
//!
//! This is the reference solution; level 7 (exec) will start from it. The test
//! `track/tests/solutions.rs` grades it with the same command.

use std::convert::Infallible;
use std::fs;
use std::path::Path;

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
        ForkResult::Parent { child } => {
            cgroup(bundle, child)?;
            Ok(child)
        }
        ForkResult::Child => track::child(|| enter(bundle)),
    }
}

/// In the child: make this process the container, then become its command.
fn enter(bundle: &Bundle) -> Result<Infallible> {
    mounts(bundle)?;
    uts(bundle)?;
    if bundle.wants("mount") {
        pivot(bundle)?;
    } else {
        chroot(&bundle.root)?;
    }
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
    // pivot_root needs a mount point: the rootfs, bound onto itself.
    let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(
        Some(&bundle.root),
        &bundle.root,
        None::<&str>,
        bind,
        None::<&str>,
    )?;
    chdir(&bundle.root)?;
    // The new root at "/", the old one stacked on top of it: detach the old one.
    pivot_root(".", ".")?;
    umount2(".", MntFlags::MNT_DETACH)?;
    chdir("/")?;
    Ok(())
}

/// Level 6: the v1 hierarchies the container joins (v2 has one for all).
const CONTROLLERS: [&str; 4] = ["memory", "cpu", "cpuacct", "pids"];

/// Level 6: the container's cgroup with its limits, and the child in it.
fn cgroup(bundle: &Bundle, child: Pid) -> Result<()> {
    let Some(path) = &bundle.cgroups_path else {
        return Ok(());
    };
    let relative = path.strip_prefix("/").unwrap_or(path);
    let root = Path::new("/sys/fs/cgroup");
    let limits = &bundle.limits;
    if root.join("cgroup.controllers").exists() {
        let dir = root.join(relative);
        fs::create_dir_all(&dir)?;
        // Each ancestor below the root hands the controllers down, top first; one that
        // already does is left alone (a cgroup holding processes may not be written).
        let ancestors: Vec<&Path> = dir.ancestors().skip(1).take_while(|p| *p != root).collect();
        for parent in ancestors.into_iter().rev() {
            let control = parent.join("cgroup.subtree_control");
            let given = fs::read_to_string(&control)?;
            if !["memory", "cpu", "pids"].iter().all(|c| given.contains(c)) {
                fs::write(&control, "+memory +cpu +pids")?;
            }
        }
        write(&dir, "memory.max", limits.memory)?;
        write(&dir, "cpu.max", limits.cpu.map(|(q, p)| format!("{q} {p}")))?;
        write(&dir, "pids.max", limits.pids)?;
        return write(&dir, "cgroup.procs", Some(child));
    }
    for controller in CONTROLLERS {
        let dir = root.join(controller).join(relative);
        fs::create_dir_all(&dir)?;
        match controller {
            "memory" => {
                write(&dir, "memory.limit_in_bytes", limits.memory)?;
                if dir.join("memory.memsw.limit_in_bytes").exists() {
                    write(&dir, "memory.memsw.limit_in_bytes", limits.memory)?;
                }
            }
            "cpu" => {
                write(&dir, "cpu.cfs_period_us", limits.cpu.map(|(_, p)| p))?;
                write(&dir, "cpu.cfs_quota_us", limits.cpu.map(|(q, _)| q))?;
            }
            "pids" => write(&dir, "pids.max", limits.pids)?,
            _ => {}
        }
        write(&dir, "cgroup.procs", Some(child))?;
    }
    Ok(())
}

/// Level 6: writes `value` to `dir/file`, if there is one.
fn write(dir: &Path, file: &str, value: Option<impl ToString>) -> Result<()> {
    if let Some(value) = value {
        let path = dir.join(file);
        fs::write(&path, value.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
