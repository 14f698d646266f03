//! The container state machine, in one place: `created → running → exited → removed`.
//!
//! Every change of a record's status goes through [`Record::apply`], and the run
//! directory applies events under its lock to the record *as stored* (see
//! [`super::StateDir::apply`]). So a late event cannot undo a later state: a shim that
//! reports "started" after `vessel rm -f` removed the record gets an error (and kills its
//! container) instead of bringing the record back.

use super::error::{Result, StateError};
use super::record::{Record, Status};

/// Something that happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new supervisor took charge before the start (the shim `vessel run -d` forks).
    Supervised {
        /// The supervisor's pid.
        shim_pid: libc::pid_t,
        /// Its start time (field 22 of `/proc/PID/stat`).
        shim_start_time: u64,
    },
    /// The first process exists (cloned, set up, not yet let go to `execve`): recorded
    /// before it may run anything, so a supervisor killed from here on leaves a pid to
    /// find it by.
    Cloned {
        /// Its pid on the host.
        pid: libc::pid_t,
        /// Its start time.
        pid_start_time: u64,
    },
    /// The first process started (its `execve` succeeded).
    Started {
        /// Its pid on the host.
        pid: libc::pid_t,
        /// Its start time.
        pid_start_time: u64,
    },
    /// The first process ended, or the start was abandoned; `exit_code` is `None` when
    /// nobody saw how (the supervisor was killed).
    Exited {
        /// 128 + n for signal n.
        exit_code: Option<i32>,
        /// The OOM killer struck in its cgroup.
        oom_killed: bool,
    },
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Supervised { .. } => "hand to a new supervisor",
            Event::Cloned { .. } => "record the first process of",
            Event::Started { .. } => "start",
            Event::Exited { .. } => "record the exit of",
        }
    }
}

// ANCHOR: transitions
/// The status after `event`, or `None` if the machine has no such edge.
pub fn next(from: Status, event: &Event) -> Option<Status> {
    match (from, event) {
        (Status::Created, Event::Supervised { .. }) => Some(Status::Created),
        (Status::Created, Event::Cloned { .. }) => Some(Status::Created),
        (Status::Created, Event::Started { .. }) => Some(Status::Running),
        // A start that never happened (the supervisor died, or the command failed).
        (Status::Created, Event::Exited { .. }) => Some(Status::Exited),
        (Status::Running, Event::Exited { .. }) => Some(Status::Exited),
        _ => None,
    }
}

/// Whether a record in `status` may be deleted. A running container must be stopped
/// (or found dead, which records it as exited) first.
pub fn removable(status: Status) -> bool {
    status != Status::Running
}
// ANCHOR_END: transitions

impl Record {
    /// Applies `event`: moves the status along its one edge and fills in what the event
    /// tells (pid, times, exit code), or refuses an event the machine has no edge for.
    pub fn apply(&mut self, event: Event) -> Result<()> {
        let Some(status) = next(self.status, &event) else {
            return Err(StateError::InvalidTransition {
                id: self.id.clone(),
                from: self.status.to_string(),
                event: event.name(),
            });
        };
        match event {
            Event::Supervised {
                shim_pid,
                shim_start_time,
            } => {
                self.shim_pid = shim_pid;
                self.shim_start_time = shim_start_time;
            }
            Event::Cloned {
                pid,
                pid_start_time,
            } => {
                self.pid = pid;
                self.pid_start_time = pid_start_time;
            }
            Event::Started {
                pid,
                pid_start_time,
            } => {
                self.pid = pid;
                self.pid_start_time = pid_start_time;
                self.started = Some(super::now_rfc3339());
            }
            Event::Exited {
                exit_code,
                oom_killed,
            } => {
                self.exit_code = exit_code;
                self.oom_killed = oom_killed;
                self.finished = Some(super::now_rfc3339());
            }
        }
        self.status = status;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 3] = [Status::Created, Status::Running, Status::Exited];

    fn events() -> [Event; 4] {
        [
            Event::Supervised {
                shim_pid: 1,
                shim_start_time: 1,
            },
            Event::Cloned {
                pid: 2,
                pid_start_time: 2,
            },
            Event::Started {
                pid: 2,
                pid_start_time: 2,
            },
            Event::Exited {
                exit_code: Some(0),
                oom_killed: false,
            },
        ]
    }

    #[test]
    fn the_machine_only_moves_forward() {
        let rank = |s: Status| ALL.iter().position(|a| *a == s).unwrap();
        for from in ALL {
            for event in events() {
                if let Some(to) = next(from, &event) {
                    assert!(rank(to) >= rank(from), "{from} -> {to}");
                }
            }
        }
        assert!(events().iter().all(|e| next(Status::Exited, e).is_none()));
    }

    #[test]
    fn a_refused_event_changes_nothing_and_says_why() {
        let mut record = Record::new("0123456789ab".parse().unwrap(), None, vec![], "/".into());
        record.apply(events()[3]).unwrap();
        let before = record.clone();
        let error = record.apply(events()[2]).unwrap_err();
        assert_eq!(record, before);
        assert_eq!(
            error.to_string(),
            "container 0123456789ab: cannot start a container that is exited"
        );
    }
}
