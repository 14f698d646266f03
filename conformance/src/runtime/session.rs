//! A running probe: its stdin (to ask for more actions), its stdout (one JSON object per
//! line), and what the host knows about it (its pid, its cgroup directories).

use std::fs::File;
use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use serde_json::Value;

/// How a finished container ended, and what it printed after the last question.
#[derive(Debug)]
pub struct Finished {
    /// The remaining JSON lines.
    pub lines: Vec<Value>,
    /// Exit code, docker-style (128+n for signal n).
    pub code: i32,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Finished {
    /// The plain-text lines (a shell command's output).
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .filter_map(|v| v.as_str())
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// Fails unless the container exited with 0.
    pub fn success(&self) -> Result<(), String> {
        if self.code == 0 {
            Ok(())
        } else {
            Err(format!(
                "the container exited with {}; stderr: {}",
                self.code,
                self.stderr.trim()
            ))
        }
    }

    /// The first line of `kind`.
    pub fn line(&self, kind: &str) -> Result<&Value, String> {
        self.lines
            .iter()
            .find(|v| v["kind"] == kind)
            .ok_or_else(|| {
                format!(
                    "the probe printed no {kind:?} line (exit code {}; stderr: {})",
                    self.code,
                    self.stderr.trim()
                )
            })
    }
}

/// Waits for the container and returns its docker-style exit code.
pub type Waiter = Box<dyn FnOnce() -> Result<i32, String>>;
/// Sends a signal to the container's first process.
pub type Killer = Box<dyn Fn(i32) -> Result<(), String>>;
/// Starts another process (its argv) in the running container.
pub type Execer = Box<dyn Fn(&[String]) -> Result<super::Exec, String>>;

/// A started container whose probe the suite talks to.
pub struct Session {
    stdin: Option<File>,
    lines: Lines<BufReader<File>>,
    stderr: Option<JoinHandle<String>>,
    /// The probe's pid in the host's PID namespace, when the adapter knows it at once.
    pub known_pid: Option<i32>,
    /// How to find that pid once the container runs (OCI: `<runtime> state`).
    pub lookup_pid: Option<Box<dyn Fn() -> Result<i32, String>>>,
    /// The container's cgroup directories by controller (v2: one directory for all).
    pub cgroup: Vec<(String, PathBuf)>,
    waiter: Option<Waiter>,
    killer: Killer,
    /// Starts another process (argv) inside the running container.
    pub exec_with: Option<Execer>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("known_pid", &self.known_pid)
            .field("cgroup", &self.cgroup)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Wraps a started container's pipes and handles.
    pub fn new(stdin: File, stdout: File, stderr: File, waiter: Waiter, killer: Killer) -> Session {
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            text
        });
        Session {
            stdin: Some(stdin),
            lines: BufReader::new(stdout).lines(),
            stderr: Some(stderr),
            known_pid: None,
            lookup_pid: None,
            cgroup: Vec::new(),
            waiter: Some(waiter),
            killer,
            exec_with: None,
        }
    }

    /// The next JSON line, which must be of `kind`.
    pub fn next(&mut self, kind: &str) -> Result<Value, String> {
        let line = match self.lines.next() {
            Some(Ok(line)) => line,
            Some(Err(e)) => return Err(format!("read the probe's output: {e}")),
            None => {
                let ended = self.end_quietly();
                return Err(format!(
                    "the container ended before the probe reported {kind:?}: {ended}"
                ));
            }
        };
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| format!("the probe printed {line:?}, not JSON: {e}"))?;
        if value["kind"] != kind {
            return Err(format!(
                "expected a {kind:?} line from the probe, got {line}"
            ));
        }
        Ok(value)
    }

    /// Sends one line of actions to a holding probe and reads the answer of `kind`.
    pub fn ask(&mut self, actions: &str, kind: &str) -> Result<Value, String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or("the probe's stdin is already closed")?;
        writeln!(stdin, "{actions}").map_err(|e| format!("write to the probe: {e}"))?;
        self.next(kind)
    }

    /// The probe's pid in the host's PID namespace (ask after the probe has spoken, so
    /// the container certainly runs).
    pub fn host_pid(&self) -> Result<i32, String> {
        match (self.known_pid, &self.lookup_pid) {
            (Some(pid), _) => Ok(pid),
            (None, Some(lookup)) => lookup(),
            (None, None) => Err("the adapter does not know the container's pid".to_owned()),
        }
    }

    /// The cgroup directory holding `controller`'s files.
    pub fn cgroup_dir(&self, controller: &str) -> Result<&Path, String> {
        self.cgroup
            .iter()
            .find(|(c, _)| c == controller)
            .map(|(_, d)| d.as_path())
            .ok_or_else(|| format!("the container has no {controller} cgroup"))
    }

    /// Reads `file` from `controller`'s cgroup directory.
    pub fn cgroup_file(&self, controller: &str, file: &str) -> Result<String, String> {
        let path = self.cgroup_dir(controller)?.join(file);
        std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))
    }

    /// Starts `argv` inside the running container, as `exec` does.
    pub fn exec(&self, argv: &[&str]) -> Result<super::Exec, String> {
        let argv: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
        match &self.exec_with {
            Some(exec) => exec(&argv),
            None => Err("this adapter cannot exec into a container".to_owned()),
        }
    }

    /// Sends `signal` to the container's first process.
    pub fn kill(&self, signal: i32) -> Result<(), String> {
        (self.killer)(signal)
    }

    /// Closes the probe's stdin (a holding probe then exits), waits for the container,
    /// and returns what it printed since and how it ended.
    pub fn finish(mut self) -> Result<Finished, String> {
        drop(self.stdin.take());
        let mut lines = Vec::new();
        for line in self.lines.by_ref() {
            let line = line.map_err(|e| format!("read the probe's output: {e}"))?;
            // A shell command's output is kept as plain strings.
            lines.push(serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line)));
        }
        let waiter = self
            .waiter
            .take()
            .ok_or("the container was already waited for")?;
        let code = waiter()?;
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ok(Finished {
            lines,
            code,
            stderr,
        })
    }

    /// Ends the container after an unexpected end of output; says how it ended.
    fn end_quietly(&mut self) -> String {
        drop(self.stdin.take());
        let code = match self.waiter.take() {
            Some(waiter) => waiter().map_or_else(|e| e, |c| format!("exit code {c}")),
            None => "already waited for".to_owned(),
        };
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        format!("{code}; stderr: {}", stderr.trim())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let _ = (self.killer)(libc::SIGKILL);
            drop(self.stdin.take());
            let _ = waiter();
        }
    }
}
