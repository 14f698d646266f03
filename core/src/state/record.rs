//! One container's record.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::process;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded, not started yet (or starting).
    Created,
    /// Its first process is running.
    Running,
    /// Its first process ended; `exit_code` says how.
    Exited,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        })
    }
}

/// Everything vessel remembers about one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 12 hex digits.
    pub id: String,
    /// The name given with `--name`, unique among the records.
    pub name: Option<String>,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// The rootfs directory.
    pub rootfs: PathBuf,
    /// The container's first process, as the host numbers it; 0 before it starts.
    pub pid: libc::pid_t,
    /// That process's start time (field 22 of `/proc/PID/stat`), so a recycled pid is
    /// never taken for the container.
    pub pid_start_time: u64,
    /// The supervising shim that waits for the container and records its exit.
    pub shim_pid: libc::pid_t,
    /// Where the container is in its life.
    pub status: Status,
    /// The exit code (128 + n for signal n) once exited.
    pub exit_code: Option<i32>,
    /// When the record was made (RFC 3339, UTC).
    pub created: String,
    /// When the first process started.
    pub started: Option<String>,
    /// When the first process ended.
    pub finished: Option<String>,
}

impl Record {
    /// A record for a container about to start.
    pub fn new(id: String, name: Option<String>, command: Vec<String>, rootfs: PathBuf) -> Record {
        Record {
            id,
            name,
            command,
            rootfs,
            pid: 0,
            pid_start_time: 0,
            shim_pid: 0,
            status: Status::Created,
            exit_code: None,
            created: super::now_rfc3339(),
            started: None,
            finished: None,
        }
    }

    /// Whether the record says running *and* its pid is still the same process.
    pub fn is_running(&self) -> bool {
        self.status == Status::Running && process::is_same_process(self.pid, self.pid_start_time)
    }

    /// The status as a user should read it: a "running" record whose process is gone
    /// (its shim was killed before it could record the exit) reads as exited.
    pub fn observed_status(&self) -> String {
        match (self.status, self.exit_code) {
            (Status::Running, _) if !self.is_running() => "exited (exit not recorded)".to_owned(),
            (Status::Exited, Some(code)) => format!("exited with code {code}"),
            (status, _) => status.to_string(),
        }
    }
}
