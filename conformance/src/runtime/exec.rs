//! A second process started inside a running container (`vessel exec`, `runc exec`):
//! its stdin, its JSON lines and its host pid.

use std::fs::File;
use std::io::{BufRead, BufReader, Lines, Write};

use serde_json::Value;

use super::session::Waiter;

/// An exec'd process the suite talks to.
pub struct Exec {
    stdin: Option<File>,
    lines: Lines<BufReader<File>>,
    waiter: Option<Waiter>,
}

impl std::fmt::Debug for Exec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec").finish_non_exhaustive()
    }
}

impl Exec {
    /// Wraps an exec'd process's pipes.
    pub fn new(stdin: File, stdout: File, waiter: Waiter) -> Exec {
        Exec {
            stdin: Some(stdin),
            lines: BufReader::new(stdout).lines(),
            waiter: Some(waiter),
        }
    }

    /// The next JSON line, which must be of `kind`.
    pub fn next(&mut self, kind: &str) -> Result<Value, String> {
        let line = self
            .lines
            .next()
            .ok_or_else(|| format!("the exec'd probe ended before reporting {kind:?}"))?
            .map_err(|e| format!("read the exec'd probe's output: {e}"))?;
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| format!("the exec'd probe printed {line:?}, not JSON: {e}"))?;
        if value["kind"] != kind {
            return Err(format!(
                "expected {kind:?} from the exec'd probe, got {line}"
            ));
        }
        Ok(value)
    }

    /// Sends a line of actions.
    pub fn send(&mut self, actions: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin already closed")?;
        writeln!(stdin, "{actions}").map_err(|e| format!("write to the exec'd probe: {e}"))
    }

    /// Closes stdin and waits; returns the exit code.
    pub fn finish(mut self) -> Result<i32, String> {
        drop(self.stdin.take());
        for _ in self.lines.by_ref() {}
        let waiter = self.waiter.take().ok_or("already waited for")?;
        waiter()
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter();
        }
    }
}
