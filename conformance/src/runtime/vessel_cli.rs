//! vessel through its command line, for what only the CLI does today or what must be
//! seen from the caller's side: a `vessel run` started from a session whose controlling
//! terminal is a pty (does the container inherit it?), `vessel commit` of a running
//! container, `--userns` containers on an image. Every call gets `--root` in the suite's
//! work directory, so `/var/lib/vessel` is never touched.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{Request, Session, vessel::CGROUP_PARENT};
use crate::world::World;

/// The `vessel` binary: `$VESSEL_BIN`, beside this executable (or one level up, where
/// cargo puts binaries when this is a test), or on `PATH`.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("VESSEL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("find this executable: {e}"))?;
    let beside = exe.ancestors().skip(1).take(2).map(|d| d.join("vessel"));
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("vessel"))
                .collect()
        })
        .unwrap_or_default();
    beside.chain(on_path).find(|p| p.is_file()).ok_or_else(|| {
        "no vessel binary beside the suite or on PATH (set VESSEL_BIN; `cargo xtask conformance` builds one)"
            .to_owned()
    })
}

/// The suite's own `--root` for the CLI, in the work directory.
pub fn root(world: &World) -> PathBuf {
    world.work.join("vessel-root")
}

/// `vessel --root ROOT` with `args`.
pub fn command(root: &Path, args: &[&str]) -> Result<Command, String> {
    let mut command = Command::new(binary()?);
    command.arg("--root").arg(root).args(args);
    Ok(command)
}

/// The cgroup parent to give `vessel run`: the suite's, as the library adapter uses.
pub fn cgroup_parent(world: &World) -> String {
    world
        .cgroup_parent
        .as_ref()
        .map_or_else(|| CGROUP_PARENT.to_owned(), |p| p.display().to_string())
}

/// Runs `vessel --root ROOT args…` to the end; fails with its stderr unless it exits 0.
pub fn run_ok(root: &Path, args: &[&str]) -> Result<Output, String> {
    let out = command(root, args)?
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run vessel {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "`vessel {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Gives the command a session of its own whose controlling terminal is its stdin,
/// as a shell in a terminal window has: `setsid()` then `TIOCSCTTY` on fd 0.
pub fn in_terminal_session(command: &mut Command, tty: &OwnedFd) -> Result<(), String> {
    let slave = tty
        .try_clone()
        .map_err(|e| format!("duplicate the pty: {e}"))?;
    command.stdin(Stdio::from(slave));
    // SAFETY: the closure runs between fork and exec and calls only setsid and ioctl,
    // which are async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// Starts `request` with `vessel run` (for a request the library cannot express: its
/// stdin the controlling terminal of the caller's session).
pub fn start(world: &World, request: &Request) -> Result<Session, String> {
    let rootfs = request.rootfs_in(world);
    let parent = cgroup_parent(world);
    let mut args: Vec<String> = [
        "run",
        "--rm",
        "--network",
        "none",
        "--cgroupns",
        "private",
        "--cgroup-parent",
        &parent,
        "--rootfs",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.push(rootfs.display().to_string());
    if let Some(name) = &request.hostname {
        args.extend(["--hostname".to_owned(), name.clone()]);
    }
    args.push("--".to_owned());
    args.extend(request.argv());
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = command(&root(world), &arg_refs)?;
    match &request.controlling_tty {
        Some(tty) => in_terminal_session(&mut command, tty)?,
        None => {
            command.stdin(Stdio::null());
        }
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start vessel run: {e}"))?;
    let stdout = File::from(OwnedFd::from(child.stdout.take().ok_or("no stdout")?));
    let stderr = File::from(OwnedFd::from(child.stderr.take().ok_or("no stderr")?));
    // The probe reads nothing here: its stdin is the terminal, not the suite.
    let stdin = File::options()
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("open /dev/null: {e}"))?;
    let pid = child.id() as i32;
    let waiter = Box::new(move || {
        let status = child
            .wait()
            .map_err(|e| format!("wait for vessel run: {e}"))?;
        use std::os::unix::process::ExitStatusExt;
        Ok(vessel::ExitStatus::from_wait_status(status.into_raw()).code())
    });
    let killer = Box::new(move |signal: i32| {
        // SAFETY: kill has no memory arguments; `pid` is our unreaped child.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().to_string())
        }
    });
    Ok(Session::new(stdin, stdout, stderr, waiter, killer))
}
