//! The OCI adapter: a bundle per run (`config.json` from [`super::oci_config`], the root
//! path pointing at the test rootfs) and `<runtime> run --bundle DIR ID`, with the
//! probe's stdio on pipes. Used for runc, crun and youki, and for vessel's own runc-style
//! command line in the `oci` area ([`OciRuntime::vessel`]): one adapter for every runtime.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use vessel::cgroups::Layout;

use super::vessel::{CGROUP_PARENT, unique_name};
use super::{CONTROLLERS, Exec, Request, Session, oci_config, vessel_cli};
use crate::world::World;

/// A run that takes longer than this is killed.
const HANG_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the watchdog looks for a runtime that missed its container's exit.
const NUDGE_INTERVAL: Duration = Duration::from_secs(1);

/// One OCI runtime binary.
#[derive(Debug, Clone)]
pub struct OciRuntime {
    /// Its name: `runc`, `crun`, `youki`.
    pub name: String,
    /// The binary.
    pub binary: PathBuf,
    /// A state directory to pass as `--root` before every command (vessel's, in the
    /// suite's work directory), or none for the runtime's default (`/run/NAME`).
    pub root: Option<PathBuf>,
}

/// The OCI runtimes the suite knows.
pub const KNOWN: [&str; 3] = ["runc", "crun", "youki"];

impl OciRuntime {
    /// The runtime `name` if its binary is on `PATH` (or in `~/.cargo/bin` for youki).
    pub fn find(name: &str) -> Result<OciRuntime, String> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(Path::new(&home).join(".cargo/bin"));
        }
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .map(|binary| OciRuntime {
                name: name.to_owned(),
                binary,
                root: None,
            })
            .ok_or_else(|| {
                format!(
                    "{name} is not installed (`cargo xtask conformance --peers` installs runc, crun and youki)"
                )
            })
    }

    /// The runtime binary at `path` (`--runtime ./learner`), named by its file name.
    pub fn at(path: &Path) -> Result<OciRuntime, String> {
        let binary = path
            .canonicalize()
            .map_err(|e| format!("--runtime {}: {e}", path.display()))?;
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("--runtime {}: not a file", path.display()))?;
        Ok(OciRuntime {
            name,
            binary,
            root: None,
        })
    }

    /// vessel's own runc-style command line (`vessel create/start/state/kill/delete/…`),
    /// with its state in the suite's work directory.
    pub fn vessel(world: &World) -> Result<OciRuntime, String> {
        Ok(OciRuntime {
            name: "vessel".to_owned(),
            binary: vessel_cli::binary()?,
            root: Some(vessel_cli::root(world)),
        })
    }

    /// `<runtime> [--root DIR]`, ready for a subcommand.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        if let Some(root) = &self.root {
            command.arg("--root").arg(root);
        }
        command
    }

    /// Where this runtime keeps its containers' state by default (`/run/NAME`).
    pub fn state_root(&self) -> PathBuf {
        Path::new("/run").join(&self.name)
    }

    /// Starts `request` with `<runtime> run`.
    pub fn start(&self, world: &World, request: &Request) -> Result<Session, String> {
        let id = unique_name(&self.name);
        let bundle = world.work.join("bundles").join(&id);
        fs::create_dir_all(&bundle).map_err(|e| format!("create {}: {e}", bundle.display()))?;
        let cgroups_path = match &world.cgroup_parent {
            Some(parent) => parent.join(&id),
            None => cgroups_path(&id)?,
        };
        let config = oci_config::config(request, &request.rootfs_in(world), &cgroups_path)
            .map_err(|e| format!("build config.json: {e}"))?;
        config
            .save(bundle.join("config.json"))
            .map_err(|e| format!("write config.json: {e}"))?;
        let mut command = self.command();
        command.arg("run").arg("--bundle").arg(&bundle).arg(&id);
        match &request.controlling_tty {
            Some(tty) => vessel_cli::in_terminal_session(&mut command, tty)?,
            None => {
                command.stdin(Stdio::piped());
            }
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.binary.display()))?;
        let stdin = match child.stdin.take() {
            Some(pipe) => File::from(std::os::fd::OwnedFd::from(pipe)),
            // The probe's stdin is the terminal: what the suite writes goes nowhere.
            None => File::options()
                .write(true)
                .open("/dev/null")
                .map_err(|e| format!("open /dev/null: {e}"))?,
        };
        let stdout = File::from(std::os::fd::OwnedFd::from(
            child.stdout.take().ok_or("no stdout")?,
        ));
        let stderr = File::from(std::os::fd::OwnedFd::from(
            child.stderr.take().ok_or("no stderr")?,
        ));
        let (done, watchdog) = mpsc::channel::<()>();
        let runtime_pid = child.id() as i32;
        let (watched, kill_id) = (self.clone(), id.clone());
        std::thread::spawn(move || watch(watchdog, runtime_pid, &watched, &kill_id));
        let dirs = cgroup_dirs(&cgroups_path)?;
        let runtime = self.clone();
        let waiter_id = id.clone();
        let waiter = Box::new(move || {
            let status = child.wait();
            let _ = done.send(());
            let _ = runtime
                .command()
                .args(["delete", "--force", &waiter_id])
                .output();
            let _ = fs::remove_dir_all(&bundle);
            let status = status.map_err(|e| format!("wait for {}: {e}", runtime.name))?;
            Ok(exit_code(status))
        });
        let (killing, kill_id) = (self.clone(), id.clone());
        let killer = Box::new(move |signal: i32| {
            let out = killing
                .command()
                .args(["kill", &kill_id, &signal.to_string()])
                .output()
                .map_err(|e| format!("run {} kill: {e}", killing.binary.display()))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
            }
        });
        let mut session = Session::new(stdin, stdout, stderr, waiter, killer);
        session.cgroup = dirs;
        let (asked, state_id) = (self.clone(), id.clone());
        session.lookup_pid = Some(Box::new(move || state_pid(&asked, &state_id)));
        let execing = self.clone();
        session.exec_with = Some(Box::new(move |argv| exec(&execing, &id, argv)));
        Ok(session)
    }
}

/// Watches a runtime's `run` until `done`: kills it after [`HANG_TIMEOUT`], and nudges
/// it with SIGCHLD when its container has exited but it has not noticed.
///
/// youki 0.7.0 waits for its container in `sigtimedwait` without blocking SIGCHLD
/// first, so a container that exits early loses its SIGCHLD and youki waits forever,
/// holding the probe's pipes open. Checking once a second for that zombie and repeating
/// the signal is a workaround for the peer's bug, not synchronisation of ours.
fn watch(done: mpsc::Receiver<()>, runtime_pid: i32, runtime: &OciRuntime, id: &str) {
    let started = std::time::Instant::now();
    loop {
        match done.recv_timeout(NUDGE_INTERVAL) {
            Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() > HANG_TIMEOUT => {
                let _ = runtime.command().args(["kill", id, "KILL"]).output();
                // SAFETY: kill has no memory arguments; the pid is our unreaped child.
                unsafe { libc::kill(runtime_pid, libc::SIGKILL) };
                return;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if has_zombie_child(runtime_pid) {
                    // SAFETY: as above.
                    unsafe { libc::kill(runtime_pid, libc::SIGCHLD) };
                }
            }
            _ => return,
        }
    }
}

/// Whether `pid` has an exited, unreaped child.
fn has_zombie_child(pid: i32) -> bool {
    let children =
        fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children.split_whitespace().any(|child| {
        fs::read_to_string(format!("/proc/{child}/stat"))
            .ok()
            .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('Z')))
            .unwrap_or(false)
    })
}

/// `<runtime> exec ID argv…` with the probe's stdio on pipes.
fn exec(runtime: &OciRuntime, id: &str, argv: &[String]) -> Result<Exec, String> {
    let binary = &runtime.binary;
    let mut child = runtime
        .command()
        .arg("exec")
        .arg(id)
        .args(argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("run {} exec: {e}", binary.display()))?;
    let stdin = File::from(std::os::fd::OwnedFd::from(
        child.stdin.take().ok_or("no stdin")?,
    ));
    let stdout = File::from(std::os::fd::OwnedFd::from(
        child.stdout.take().ok_or("no stdout")?,
    ));
    Ok(Exec::new(
        stdin,
        stdout,
        Box::new(move || {
            let status = child.wait().map_err(|e| format!("wait for exec: {e}"))?;
            Ok(exit_code(status))
        }),
    ))
}

/// The exit code, or 128 + the signal that killed it, as vessel reports one.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    vessel::ExitStatus::from_wait_status(status.into_raw()).code()
}

/// The container's pid as `<runtime> state ID` reports it.
fn state_pid(runtime: &OciRuntime, id: &str) -> Result<i32, String> {
    let binary = &runtime.binary;
    let out = runtime
        .command()
        .args(["state", id])
        .output()
        .map_err(|e| format!("run {} state: {e}", binary.display()))?;
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{} state {id}: {e} ({})",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    state["pid"]
        .as_i64()
        .map(|p| p as i32)
        .ok_or_else(|| format!("{} state {id} has no pid: {state}", binary.display()))
}

/// An absolute `cgroupsPath` below our own cgroup (our memory cgroup on v1, the one
/// cgroup here that is ours to fill), in the same parent vessel's containers use.
pub fn cgroups_path(id: &str) -> Result<PathBuf, String> {
    let own = match Layout::of_this_process().map_err(|e| e.to_string())? {
        Layout::V1(hierarchies) => hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == "memory"))
            .map(|h| Path::new("/").join(h.own.strip_prefix(&h.mount).unwrap_or(Path::new(""))))
            .unwrap_or_else(|| PathBuf::from("/")),
        Layout::V2 { mount, own } => {
            Path::new("/").join(own.strip_prefix(&mount).unwrap_or(Path::new("")))
        }
    };
    Ok(own.join(CGROUP_PARENT).join(id))
}

/// The host directories `cgroups_path` names, by controller.
pub fn cgroup_dirs(cgroups_path: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let relative = cgroups_path.strip_prefix("/").unwrap_or(cgroups_path);
    Ok(
        match Layout::of_this_process().map_err(|e| e.to_string())? {
            Layout::V1(hierarchies) => CONTROLLERS
                .iter()
                .filter_map(|c| {
                    let h = hierarchies
                        .iter()
                        .find(|h| h.controllers.iter().any(|x| x == c))?;
                    Some(((*c).to_owned(), h.mount.join(relative)))
                })
                .collect(),
            Layout::V2 { mount, .. } => CONTROLLERS
                .iter()
                .map(|c| ((*c).to_owned(), mount.join(relative)))
                .collect(),
        },
    )
}
