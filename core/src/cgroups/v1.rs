//! cgroup v1: one hierarchy per controller, so one directory per controller for each
//! container, each with that controller's files (`memory.limit_in_bytes`,
//! `cpu.cfs_quota_us`, `pids.max`, …). See `Documentation/admin-guide/cgroup-v1/`.

use std::path::{Path, PathBuf};

use super::devices::DeviceRules;
use super::error::{CgroupError, CgroupStep, Lack, Result};
use super::files::wait_for_state;
use super::files::{self, Written};
use super::kill;
use super::layout::V1Hierarchy;
use super::stats::Stats;
use super::tree::{self, Placed};

/// One container's directories in the v1 hierarchies.
#[derive(Debug)]
pub struct V1Cgroup {
    dirs: Vec<(Vec<String>, Placed)>,
}

impl V1Cgroup {
    /// Creates `<parent>/<name>` in each of `hierarchies` (those the container uses, see
    /// [`super::CgroupSpec::uses_hierarchy`]).
    pub fn create(
        hierarchies: &[V1Hierarchy],
        parent: Option<&Path>,
        name: &str,
    ) -> Result<V1Cgroup> {
        let mut made = V1Cgroup { dirs: Vec::new() };
        for h in hierarchies {
            let dir = tree::container_dir(&h.mount, &h.own, parent, name);
            let base = if parent.is_some_and(Path::is_absolute) {
                &h.mount
            } else {
                &h.own
            };
            let cpuset = h.controllers.iter().any(|c| c == "cpuset");
            let placed = tree::create(base, &dir, parent.is_none(), |path| {
                if cpuset { inherit_cpuset(path) } else { Ok(()) }
            });
            match placed {
                Ok(placed) => made.dirs.push((h.controllers.clone(), placed)),
                Err(e) => {
                    let _ = made.remove();
                    return Err(e);
                }
            }
        }
        Ok(made)
    }

    /// The container's directory in the hierarchy holding `controller`.
    pub fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(controllers, _)| controllers.iter().any(|c| c == controller))
            .map(|(_, placed)| placed.dir.as_path())
    }

    /// Every directory of the container, one per hierarchy.
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|(_, p)| p.dir.clone()).collect()
    }

    /// The directory of `controller`, or the error for a container without one.
    pub(super) fn need(&self, controller: &str) -> Result<&Path> {
        self.dir(controller).ok_or_else(|| {
            let controller = controller.to_owned();
            CgroupError::lacking(
                CgroupStep::UseV1 {
                    controller: controller.clone(),
                },
                Lack::NoV1Directory { controller },
            )
        })
    }

    /// Moves `pid` into the container's cgroup in every hierarchy.
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        for (_, placed) in &self.dirs {
            files::write(&placed.dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    // ANCHOR: stats
    /// Reads the counters from each hierarchy; a hierarchy that is not mounted counts 0.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        if let Some(dir) = self.dir("memory") {
            stats.memory_bytes = files::read_u64(&dir.join("memory.usage_in_bytes"))?;
            stats.memory_peak_bytes =
                files::read_u64_if_present(&dir.join("memory.max_usage_in_bytes"))?;
            // With swap accounting the memory+swap counter is charged first, so a hit
            // is counted in one of the two.
            stats.memory_limit_hits = files::read_u64(&dir.join("memory.failcnt"))?
                + files::read_u64_if_present(&dir.join("memory.memsw.failcnt"))?.unwrap_or(0);
            stats.oom_kills = oom_kills_in(dir)?;
        }
        if let Some(dir) = self.dir("cpuacct") {
            stats.cpu_usage_ns = files::read_u64(&dir.join("cpuacct.usage"))?;
        }
        if let Some(dir) = self.dir("cpu") {
            let cpu = files::read(&dir.join("cpu.stat"))?;
            stats.cpu_periods = files::keyed(&cpu, "nr_periods");
            stats.cpu_throttled_periods = files::keyed(&cpu, "nr_throttled");
            stats.cpu_throttled_ns = files::keyed(&cpu, "throttled_time");
        }
        if let Some(dir) = self.dir("pids") {
            stats.pids = files::read_u64(&dir.join("pids.current"))?;
            stats.pids_peak = files::read_u64_if_present(&dir.join("pids.peak"))?;
            let events = files::read(&dir.join("pids.events"))?;
            stats.pids_limit_hits = files::keyed(&events, "max");
        }
        Ok(stats)
    }
    // ANCHOR_END: stats

    /// Processes the OOM killer killed in the container (`oom_kill` in
    /// `memory.oom_control`); 0 without a memory hierarchy.
    pub fn oom_kills(&self) -> Result<u64> {
        self.dir("memory").map_or(Ok(0), oom_kills_in)
    }

    /// Replaces the device list the cgroup inherited with `rules`: deny all, then allow
    /// each rule. (A v1 device cgroup can only be narrower than its parent's.)
    pub fn restrict_devices(&self, rules: &DeviceRules, log: &mut Vec<Written>) -> Result<()> {
        let dir = self.dir("devices").ok_or_else(|| {
            CgroupError::lacking(CgroupStep::ApplyDeviceList, Lack::NoDevicesHierarchy)
        })?;
        let mut put = |file: &str, value: String| {
            let file = dir.join(file);
            files::write(&file, &value)?;
            log.push(Written { file, value });
            Ok::<(), CgroupError>(())
        };
        put("devices.deny", "a".to_owned())?;
        for line in rules.v1_lines() {
            put("devices.allow", line)?;
        }
        Ok(())
    }

    /// Freezes (`FROZEN`) or thaws (`THAWED`) every process via `freezer.state`.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let state = self.need("freezer")?.join("freezer.state");
        let want = if frozen { "FROZEN" } else { "THAWED" };
        files::write(&state, want)?;
        // Reads say FREEZING until every task has stopped; v1 has no event to wait on.
        wait_for_state(&state, |text| text.trim() == want)
    }

    /// Kills every process in the container's cgroups.
    pub fn kill_all(&self) -> Result<()> {
        for (_, placed) in &self.dirs {
            kill::kill_all(&placed.dir.join("cgroup.procs"))?;
        }
        Ok(())
    }

    /// Kills what is left and removes every directory; tries all before reporting the
    /// first failure.
    pub fn remove(&mut self) -> Result<()> {
        let mut first_error = self.kill_all().err();
        for (_, placed) in self.dirs.drain(..) {
            if let Err(e) = placed.remove() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn oom_kills_in(memory_dir: &Path) -> Result<u64> {
    let oom = files::read(&memory_dir.join("memory.oom_control"))?;
    Ok(files::keyed(&oom, "oom_kill"))
}

/// A new v1 cpuset starts with no CPUs and no memory nodes, and no process may join it
/// until it has both: copy them from the parent (what `cgroup.clone_children` would do).
fn inherit_cpuset(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(dir);
    for file in ["cpuset.cpus", "cpuset.mems"] {
        // The kernel always has the file; a fake tree in a test may not.
        let current = match std::fs::read_to_string(dir.join(file)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            _ => files::read(&dir.join(file))?,
        };
        if current.trim().is_empty() {
            files::write(&dir.join(file), files::read(&parent.join(file))?.trim())?;
        }
    }
    Ok(())
}
