//! One container driven step by step through a runtime's runc-style command line
//! (`create`, `start`, `state`, `kill`, `delete`, `exec --process`, `pause`, `resume`), for
//! the `oci` area. The same code drives runc, crun, youki and vessel
//! ([`OciRuntime::vessel`]): only the binary and its `--root` differ.
//!
//! `create` is given the container's stdio: the suite's own pipes (stdin, stdout) and a
//! file for stderr, which the container keeps after `create` exits. Every wait is bounded.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::oci::{OciRuntime, cgroups_path, exit_code};
use super::vessel::unique_name;
use super::{Request, oci_config};
use crate::world::World;

/// How long one runtime command may take before the check gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the container may take to print a line or to exit when asked.
pub const CONTAINER_TIMEOUT: Duration = Duration::from_secs(30);

/// A bundle, and the container made from it once [`Container::create`] ran.
#[derive(Debug)]
pub struct Container {
    runtime: OciRuntime,
    /// The container's id.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The suite's end of the container's stdin (after `create`).
    pub stdin: Option<File>,
    /// The suite's end of the container's stdout (after `create`).
    stdout: Option<File>,
    /// What stdout gave so far and no line has consumed yet.
    pending: Vec<u8>,
    /// Environment variables set for every runtime command (the hooks check plants one).
    pub env: Vec<(String, String)>,
}

impl Container {
    /// A bundle for `request` under the suite's work directory; `edit` changes its
    /// config.json (as JSON) before it is written.
    pub fn bundle(
        runtime: &OciRuntime,
        world: &World,
        request: &Request,
        edit: impl FnOnce(&mut Value, &Path),
    ) -> Result<Container, String> {
        let id = unique_name(&format!("oci-{}", runtime.name));
        let bundle = world.work.join("bundles").join(&id);
        fs::create_dir_all(&bundle).map_err(|e| format!("create {}: {e}", bundle.display()))?;
        let cgroups = match &world.cgroup_parent {
            Some(parent) => parent.join(&id),
            None => cgroups_path(&id)?,
        };
        let config = oci_config::config(request, &request.rootfs_in(world), &cgroups)
            .map_err(|e| format!("build config.json: {e}"))?;
        let mut config = serde_json::to_value(&config).map_err(|e| e.to_string())?;
        edit(&mut config, &bundle);
        let path = bundle.join("config.json");
        fs::write(&path, config.to_string())
            .map_err(|e| format!("write {}: {e}", path.display()))?;
        Ok(Container {
            runtime: runtime.clone(),
            id,
            bundle,
            stdin: None,
            stdout: None,
            pending: Vec::new(),
            env: Vec::new(),
        })
    }

    /// `<runtime> [--root R] args…` with the planted environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.runtime.command();
        command.args(args);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs `<runtime> args…` to the end (at most [`COMMAND_TIMEOUT`]).
    pub fn run(&self, args: &[&str]) -> Result<Output, String> {
        let mut command = self.command(args);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        bounded(
            command,
            &format!("{} {}", self.runtime.name, args.join(" ")),
        )
    }

    /// Runs `<runtime> args…`; fails with its stderr unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> Result<String, String> {
        let out = self.run(args)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{} {}` failed ({}): {}",
                self.runtime.name,
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// `create --bundle B [extra…] ID`, the container's stdin and stdout on the suite's
    /// pipes, its stderr in `B/stderr`.
    pub fn create(&mut self, extra: &[&str]) -> Result<(), String> {
        let (stdin_read, stdin_write) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let (stdout_read, stdout_write) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let stderr_path = self.bundle.join("stderr");
        let stderr = File::create(&stderr_path).map_err(|e| format!("create stderr: {e}"))?;
        let bundle = self.bundle.display().to_string();
        let mut args = vec!["create", "--bundle", bundle.as_str()];
        args.extend(extra);
        args.push(&self.id);
        let mut command = self.command(&args);
        command
            .stdin(Stdio::from(OwnedFd::from(stdin_read)))
            .stdout(Stdio::from(OwnedFd::from(stdout_write)))
            .stderr(stderr);
        self.stdin = Some(File::from(OwnedFd::from(stdin_write)));
        self.stdout = Some(File::from(OwnedFd::from(stdout_read)));
        let out = bounded(command, &format!("{} create", self.runtime.name))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{} create` failed ({}): {}",
                self.runtime.name,
                out.status,
                fs::read_to_string(&stderr_path).unwrap_or_default().trim()
            ))
        }
    }

    /// `state ID` as JSON.
    pub fn state(&self) -> Result<Value, String> {
        let out = self.ok(&["state", &self.id])?;
        serde_json::from_str(&out).map_err(|e| format!("state {}: {e}: {out:?}", self.id))
    }

    /// The `status` that `state ID` reports.
    pub fn status(&self) -> Result<String, String> {
        let state = self.state()?;
        state["status"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("state has no status: {state}"))
    }

    /// Fails unless `state ID` says `expected`.
    pub fn expect_status(&self, expected: &str, when: &str) -> Result<(), String> {
        let status = self.status()?;
        if status == expected {
            Ok(())
        } else {
            Err(format!("{when}, state says {status:?}, not {expected:?}"))
        }
    }

    /// The init's host pid, as `state ID` reports it.
    pub fn pid(&self) -> Result<i32, String> {
        let state = self.state()?;
        state["pid"]
            .as_i64()
            .filter(|p| *p > 0)
            .map(|p| p as i32)
            .ok_or_else(|| format!("state has no pid: {state}"))
    }

    /// The next line the container prints on stdout, within [`CONTAINER_TIMEOUT`].
    pub fn line(&mut self) -> Result<String, String> {
        let stdout = self
            .stdout
            .as_ref()
            .ok_or("the container was not created")?;
        let line = read_line(stdout, &mut self.pending, CONTAINER_TIMEOUT)?;
        line.ok_or_else(|| {
            let stderr = fs::read_to_string(self.bundle.join("stderr")).unwrap_or_default();
            format!(
                "the container closed its stdout without a line (stderr: {})",
                stderr.trim()
            )
        })
    }

    /// Whether the container printed anything (or closed stdout) so far.
    pub fn printed_anything(&mut self) -> Result<bool, String> {
        self.printed_anything_within(Duration::ZERO)
    }

    /// Whether the container prints anything (or closes stdout) within `within`.
    pub fn printed_anything_within(&mut self, within: Duration) -> Result<bool, String> {
        let stdout = self
            .stdout
            .as_ref()
            .ok_or("the container was not created")?;
        Ok(!self.pending.is_empty() || readable(stdout.as_raw_fd(), within.as_millis() as i32)?)
    }

    /// Closes the container's stdin (a holding probe exits).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Writes one line to the container's stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or("the container's stdin is closed")?;
        writeln!(stdin, "{line}").map_err(|e| format!("write to the container: {e}"))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.run(&["delete", "--force", &self.id]);
        let _ = fs::remove_dir_all(&self.bundle);
    }
}

/// Waits at most [`CONTAINER_TIMEOUT`] for process `pid` to exit.
pub fn wait_gone(pid: i32, what: &str) -> Result<(), String> {
    match vessel::state::process::wait_until_gone_within(pid, Some(CONTAINER_TIMEOUT)) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{what}: process {pid} still runs after {CONTAINER_TIMEOUT:?}"
        )),
        Err(e) => Err(format!("{what}: wait for process {pid}: {e}")),
    }
}

/// Whether process `pid` exists and has not exited (a zombie has).
pub fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(!stat.rsplit_once(") ")?.1.starts_with(['Z', 'X'])))
        .unwrap_or(false)
}

/// Runs `command` with its output captured, killing it after [`COMMAND_TIMEOUT`].
fn bounded(mut command: Command, what: &str) -> Result<Output, String> {
    let child = command.spawn().map_err(|e| format!("run {what}: {e}"))?;
    let pid = child.id() as i32;
    let exited = vessel::state::process::wait_until_gone_within(pid, Some(COMMAND_TIMEOUT))
        .map_err(|e| format!("wait for {what}: {e}"))?;
    if !exited {
        // SAFETY: kill takes plain integers; `pid` is our child, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = child.wait_with_output();
        return Err(format!(
            "{what} still ran after {COMMAND_TIMEOUT:?}; killed it"
        ));
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("wait for {what}: {e}"))?;
    Ok(out)
}

/// Whether `fd` is readable (data or end of file) within `millis`.
pub fn readable(fd: i32, millis: i32) -> Result<bool, String> {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one live pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    if ready < 0 {
        return Err(format!("poll: {}", std::io::Error::last_os_error()));
    }
    Ok(ready > 0)
}

/// The next line from `source` (what is left over stays in `pending`), or `None` at end
/// of file; fails after `within`.
pub fn read_line(
    mut source: &File,
    pending: &mut Vec<u8>,
    within: Duration,
) -> Result<Option<String>, String> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            return Ok(Some(String::from_utf8_lossy(&line).trim_end().to_owned()));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(source.as_raw_fd(), left.as_millis() as i32)? {
            return Err(format!(
                "no line within {within:?} (so far: {:?})",
                String::from_utf8_lossy(pending)
            ));
        }
        let mut buf = [0u8; 4096];
        match source.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            // A pty master reads EIO once its last slave is closed: end of file.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(None),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// The exit code `out` ended with, as vessel reports one.
pub fn code(out: &Output) -> i32 {
    exit_code(out.status)
}
