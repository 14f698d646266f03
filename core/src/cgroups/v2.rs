//! cgroup v2: one unified hierarchy, so one directory per container holding every
//! controller's files (`memory.max`, `cpu.max`, `pids.max`, …). A controller is only
//! there if each ancestor lists it in `cgroup.subtree_control`. See
//! `Documentation/admin-guide/cgroup-v2.rst`.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::error::{CgroupError, CgroupStep, Result};
use super::files;
use super::files::wait_for_state;
use super::kill;
use super::layout::V2_CONTROLLERS;
use super::stats::Stats;
use super::tree::{self, Placed};

/// One container's directory in the unified hierarchy.
#[derive(Debug)]
pub struct V2Cgroup {
    placed: Option<Placed>,
}

impl V2Cgroup {
    /// Creates `<parent>/<name>`, enabling vessel's controllers on the way down.
    ///
    /// Without `limits` the controllers only feed statistics, and enabling them is best
    /// effort: a cgroup that holds processes (a systemd leaf) may have children but may
    /// give them no controllers, and a cgroup holding just the device program (every
    /// root container's) must still be possible there.
    pub fn create(
        mount: &Path,
        own: &Path,
        parent: Option<&Path>,
        name: &str,
        limits: bool,
    ) -> Result<V2Cgroup> {
        let dir = tree::container_dir(mount, own, parent, name);
        let base = if parent.is_some_and(Path::is_absolute) {
            mount
        } else {
            own
        };
        let enable = |path: &Path| match enable_controllers(path) {
            Err(_) if !limits => Ok(()),
            enabled => enabled,
        };
        enable(base)?;
        let placed = tree::create(base, &dir, parent.is_none(), |path| {
            if path == dir { Ok(()) } else { enable(path) }
        })?;
        Ok(V2Cgroup {
            placed: Some(placed),
        })
    }

    /// The container's directory.
    pub fn dir(&self) -> &Path {
        self.placed
            .as_ref()
            .map_or(Path::new(""), |p| p.dir.as_path())
    }

    /// Opens the container's directory, for `CLONE_INTO_CGROUP`.
    pub fn open_dir(&self) -> Result<OwnedFd> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(self.dir())
            .map(OwnedFd::from)
            .map_err(|e| CgroupError::io(CgroupStep::Open(self.dir().to_owned()))(e))
    }

    /// Moves `pid` into the container's cgroup.
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        files::write(&self.dir().join("cgroup.procs"), &pid.to_string())
    }

    // ANCHOR: stats
    /// Reads the counters; every controller's files live in the one directory.
    /// A controller the parent did not hand down has no files here; its counters read 0
    /// (`cpu.stat` with `usage_usec` is always there, from the cgroup core).
    pub fn stats(&self) -> Result<Stats> {
        let dir = self.dir();
        let keyed_file = |name: &str| -> Result<String> {
            let file = dir.join(name);
            if file.exists() {
                files::read(&file)
            } else {
                Ok(String::new())
            }
        };
        let number = |name: &str| -> Result<u64> {
            Ok(files::read_u64_if_present(&dir.join(name))?.unwrap_or(0))
        };
        let events = keyed_file("memory.events")?;
        let cpu = keyed_file("cpu.stat")?;
        Ok(Stats {
            memory_bytes: number("memory.current")?,
            memory_peak_bytes: files::read_u64_if_present(&dir.join("memory.peak"))?,
            memory_limit_hits: files::keyed(&events, "max"),
            oom_kills: files::keyed(&events, "oom_kill"),
            cpu_usage_ns: files::keyed(&cpu, "usage_usec").saturating_mul(1000),
            cpu_periods: files::keyed(&cpu, "nr_periods"),
            cpu_throttled_periods: files::keyed(&cpu, "nr_throttled"),
            cpu_throttled_ns: files::keyed(&cpu, "throttled_usec").saturating_mul(1000),
            pids: number("pids.current")?,
            pids_peak: files::read_u64_if_present(&dir.join("pids.peak"))?,
            pids_limit_hits: files::keyed(&keyed_file("pids.events")?, "max"),
        })
    }
    // ANCHOR_END: stats

    /// Processes the OOM killer killed in the container (`oom_kill` in
    /// `memory.events`); 0 without the memory controller.
    pub fn oom_kills(&self) -> Result<u64> {
        let events = self.dir().join("memory.events");
        if !events.exists() {
            return Ok(0);
        }
        Ok(files::keyed(&files::read(&events)?, "oom_kill"))
    }

    /// Freezes or thaws via `cgroup.freeze`, and waits until `cgroup.events` agrees.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let want = if frozen { "1" } else { "0" };
        files::write(&self.dir().join("cgroup.freeze"), want)?;
        let events = self.dir().join("cgroup.events");
        wait_for_state(&events, |text| {
            files::keyed(text, "frozen").to_string() == want
        })
    }

    /// Kills every process: one write to `cgroup.kill` (Linux 5.14+), else one by one.
    pub fn kill_all(&self) -> Result<()> {
        let kill_file = self.dir().join("cgroup.kill");
        if kill_file.exists() {
            files::write(&kill_file, "1")?;
            let events = self.dir().join("cgroup.events");
            return wait_for_state(&events, |text| files::keyed(text, "populated") == 0);
        }
        kill::kill_all(&self.dir().join("cgroup.procs"))
    }

    /// Kills what is left and removes the directory and vessel's empty parents.
    pub fn remove(&mut self) -> Result<()> {
        let Some(placed) = self.placed.as_ref() else {
            return Ok(());
        };
        let killed = self.kill_all();
        placed.remove()?;
        self.placed = None;
        killed
    }

    /// The directories a fake-tree test expects, for inspection.
    pub fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir().to_path_buf()]
    }
}

/// Lets `dir`'s children use vessel's controllers: `+memory` etc. into
/// `cgroup.subtree_control`, for those `dir` has (`cgroup.controllers`).
fn enable_controllers(dir: &Path) -> Result<()> {
    let available = files::read(&dir.join("cgroup.controllers"))?;
    let control = dir.join("cgroup.subtree_control");
    let enabled = files::read(&control)?;
    for controller in V2_CONTROLLERS {
        let has = |text: &str| text.split_whitespace().any(|c| c == controller);
        if !has(&available) || has(&enabled) {
            continue;
        }
        files::write(&control, &format!("+{controller}")).map_err(|e| match e {
            CgroupError::Io { step, source } if source.raw_os_error() == Some(libc::EBUSY) => {
                CgroupError::Io {
                    step: CgroupStep::ControllersBusy(Box::new(step)),
                    source,
                }
            }
            other => other,
        })?;
    }
    Ok(())
}
