//! The record of a container kept by the process that supervises it: `vessel run` in
//! the foreground, or the shim of `vessel run -d`.

use std::fs;

use super::error::Result;
use crate::process::container::Running;
use crate::process::exit::ExitStatus;
use crate::state::{ContainerId, Event, Record, StateDir, process};
use crate::sys::crash::hold_point;

/// A container's record from before its start to after its exit. Dropped before the
/// exit was recorded (the start failed), it removes the record again.
#[derive(Debug)]
pub struct Tracked {
    dir: StateDir,
    record: Record,
    done: bool,
}

impl Tracked {
    /// Records a new container as created, before anything of it exists on the host
    /// (its cgroup and layer paths are in the record already, so `vessel rm -f` can
    /// clean up after a start cut short). Refused if its name is taken.
    pub fn create(dir: StateDir, record: Record) -> Result<Tracked> {
        dir.create(&record)?;
        hold_point("run-recorded");
        Ok(Tracked {
            dir,
            record,
            done: false,
        })
    }

    /// The container's id.
    pub fn id(&self) -> &ContainerId {
        &self.record.id
    }

    /// The run directory the record is in.
    pub fn dir(&self) -> &StateDir {
        &self.dir
    }

    /// The record as this process last wrote it.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// In a freshly forked shim: this process supervises the container from now on.
    pub fn supervise_here(&mut self) -> Result<()> {
        let me = std::process::id() as libc::pid_t;
        let event = Event::Supervised {
            shim_pid: me,
            shim_start_time: process::start_time(me).unwrap_or(0),
        };
        self.record = self.dir.apply(&self.record.id, event)?;
        Ok(())
    }

    /// In the process that forked the shim: the shim owns the record now.
    pub fn hand_over(mut self) {
        self.done = true;
    }

    /// The container's first process exists and waits for the go signal: record its
    /// pid now, before it may run anything (see [`Container::spawn_supervised`]). Fails
    /// if the record was removed meanwhile (`vessel rm -f`): the spawn then kills it.
    ///
    /// [`Container::spawn_supervised`]: crate::process::container::Container::spawn_supervised
    pub fn cloned(&mut self, pid: libc::pid_t) -> Result<()> {
        // Our unreaped child, blocked on the go pipe: its /proc entry is there.
        let event = Event::Cloned {
            pid,
            pid_start_time: process::start_time(pid).unwrap_or(0),
        };
        self.record = self.dir.apply(&self.record.id, event)?;
        hold_point("run-cloned");
        Ok(())
    }

    /// The container's command started. Fails if the record was removed meanwhile
    /// (`vessel rm -f` while starting): the caller then drops `running`, which kills it.
    pub fn started(&mut self, running: &Running) -> Result<()> {
        hold_point("run-spawned");
        // Our unreaped child: even if it exited already, its /proc entry is there.
        let event = Event::Started {
            pid: running.pid(),
            pid_start_time: process::start_time(running.pid()).unwrap_or(0),
        };
        self.record = self.dir.apply(&self.record.id, event)?;
        hold_point("run-started");
        Ok(())
    }

    // ANCHOR: exited
    /// The container exited (`status` is `None` if waiting for it failed). The record
    /// stays while something of the container stays (its writable layer, kept for
    /// `vessel commit` without `--rm`) or while it has a log to read (`-d` without
    /// `--rm`); otherwise it goes now, and with it the container's name.
    pub fn exited(mut self, status: Option<ExitStatus>, oom_killed: bool) -> Result<Record> {
        hold_point("shim-exited");
        self.done = true;
        let event = Event::Exited {
            exit_code: status.map(ExitStatus::code),
            oom_killed,
        };
        self.record = self.dir.apply(&self.record.id, event)?;
        let kept = !self.record.auto_remove
            && (self.record.layers_dir.is_some() || self.record.log.is_some());
        if !kept {
            self.forget();
        }
        Ok(self.record.clone())
    }
    // ANCHOR_END: exited

    fn forget(&self) {
        let _ = fs::remove_file(self.dir.log_path(&self.record.id));
        let _ = self.dir.remove(&self.record.id);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.done {
            let abandoned = Event::Exited {
                exit_code: None,
                oom_killed: false,
            };
            let _ = self.dir.apply(&self.record.id, abandoned);
            self.forget();
        }
    }
}
