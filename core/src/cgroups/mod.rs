//! cgroups: what a container may *use* (memory, CPU time, CPUs, processes), and what it
//! did use.
//!
//! The kernel's interface is a filesystem: a cgroup is a directory, a limit is a number
//! written to a file in it, a statistic is a file read back, and a process joins by
//! writing its pid to `cgroup.procs`. Two vocabularies exist: v1 (one hierarchy per
//! controller: `memory.limit_in_bytes`, `cpu.cfs_quota_us`) and v2 (one unified
//! hierarchy: `memory.max`, `cpu.max`). [`CgroupManager`] hides which one this machine
//! has, as youki's manager does; [`Cgroup::written`] keeps the real files so lessons can
//! show them.
//!
//! Life of a container's cgroup (see [`crate::process::container`]): created with its
//! limits, the child in it before it reads the go pipe (so the command starts already
//! limited), statistics read after it exits, then removed — also on every failure path,
//! by [`Drop`]. On v2 it is made *before* `clone3` and the child is born in it
//! (`CLONE_INTO_CGROUP`); on a hybrid host a cgroup that needs no controller goes in the
//! unified hierarchy for that reason ([`Layout::for_container`]). On v1 it is made and
//! the child attached by pid *after* `clone3`, while the child builds its root.
//!
//! # The walk of `-m`
//!
//! `vessel run -m 64m` reaches the cgroup file through five files, and each of them
//! parses, checks or reads the value once (`grep -rn memory_bytes core/src` shows them):
//!
//! 1. `cli/cgroup_args.rs`: the clap field (`CgroupArgs::memory`); `CgroupArgs::resources`
//!    parses it into [`Resources::memory_bytes`], and `CgroupArgs::apply` puts the spec,
//!    not yet placed, into the run request's container spec (`cli/run.rs` never names it).
//! 2. `cgroups/limits.rs`: [`parse_size`] reads the text; [`Resources::check`] refuses
//!    less than 6m, called once by [`CgroupSpec::place`]; `Resources::write_v1` and
//!    `write_v2` each write one vocabulary: `memory.limit_in_bytes` (with
//!    `memory.memsw.limit_in_bytes`) or `memory.max` (with `memory.swap.max`).
//! 3. `lifecycle/run/mod.rs`: the library's `vessel run` takes the spec out of the
//!    request, places it (3 → 4), and side by side with the placement records the limit
//!    (`Limits::from`) and the placement's directories ([`CgroupSpec::dirs`]) in the
//!    container's record, then puts it back into the spec it starts.
//! 4. `cgroups/mod.rs` (here): [`CgroupSpec::place`] checks the spec, reads the layout
//!    and picks the hierarchies the limit needs (`memory` on v1), once; [`Cgroup::create`]
//!    makes the directories of that placement and hands the limits back to `limits.rs`.
//! 5. `cgroups/files.rs`: `files::write`, the one `write(2)` of the value to the file.
//!
//! Two more files carry the placed spec without opening it, because the process model
//! decides when the cgroup is made: `process/spec.rs` (the field `ContainerSpec::cgroup`,
//! in the request and in the spec started), and `Container::spawn_supervised`
//! (`process/container.rs`), which hands it to [`Cgroup::create`] before `clone3` on v2
//! (the child is born in it) and after it on v1 (made while the child builds its root).

mod delegation;
pub mod devices;
pub(crate) mod error;
mod files;
mod freezer;
pub mod io_weight;
mod join;
mod kill;
mod layout;
mod limits;
mod stats;
mod tree;
mod v1;
mod v2;

#[cfg(test)]
mod fake_tree_tests;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

pub use delegation::check_delegation;
pub use devices::{Access, DeviceKind, DeviceNode, DeviceRule, DeviceRuleError, DeviceRules};
pub use error::{CgroupError, CgroupStep, Lack, ResourceError};
pub use files::Written;
pub use freezer::Frozen;
pub use join::procs_files_to_join;
pub use kill::kill_all;
pub use layout::{Layout, V1Hierarchy, Version, detect};
pub use limits::{
    CpuQuota, CpuSet, DEFAULT_CPU_PERIOD_US, Resources, format_cpus, format_size, online_cpus,
    parse_cpus, parse_size, shares_to_weight,
};
pub use stats::Stats;
pub use tree::DEFAULT_PARENT;
pub use v1::V1Cgroup;
pub use v2::V2Cgroup;

use error::Result;

/// Which cgroup a container gets and what limits it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupSpec {
    /// The cgroup's name: one path component, usually the container id.
    pub name: String,
    /// Where to put it: `None` for `<own cgroup>/vessel`, a relative path for a cgroup
    /// below our own, an absolute one for a path from the hierarchy's root.
    pub parent: Option<PathBuf>,
    /// The limits.
    pub resources: Resources,
    /// Whether the container's counters are read (`--stats`): they need the
    /// controllers, which a hybrid host has only in its v1 hierarchies.
    pub counters: bool,
    /// Where [`CgroupSpec::place`] put this spec, decided once for the whole start;
    /// `None` until then.
    placed: Option<Placement>,
}

/// A spec's place on this machine, as [`CgroupSpec::place`] decided it: the layout read,
/// and what the spec's limits ask of it, read from them once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    /// The machine's layout for this cgroup ([`Layout::for_container`]).
    layout: Layout,
    /// The same, narrowed to the v1 hierarchies the container gets a directory in
    /// ([`CgroupSpec::uses_hierarchy`]).
    used: Layout,
    /// Whether any limit is set: on v2, enabling the controllers is then no longer
    /// best effort (see [`V2Cgroup::create`]).
    limited: bool,
}

impl Placement {
    /// The placement of `spec` in `layout`.
    fn of(spec: &CgroupSpec, layout: Layout) -> Placement {
        Placement {
            used: spec.narrowed(&layout),
            layout,
            limited: !spec.resources.is_empty(),
        }
    }
}

impl CgroupSpec {
    /// A cgroup named `name` in vessel's default place with `resources`.
    pub fn new(name: impl Into<String>, resources: Resources) -> CgroupSpec {
        CgroupSpec {
            name: name.into(),
            parent: None,
            resources,
            counters: false,
            placed: None,
        }
    }

    /// Asks for the container's counters (see [`CgroupSpec::counters`]).
    #[must_use]
    pub fn counting(mut self) -> CgroupSpec {
        self.counters = true;
        self.placed = None;
        self
    }

    /// Whether this cgroup needs any controller: limits, counters, or a place the user
    /// chose (`--cgroup-parent` names a cgroup of the controllers' hierarchies). One
    /// that needs none only holds processes (device rules, freezer, kill, removal).
    pub fn needs_controllers(&self) -> bool {
        !self.resources.is_empty() || self.counters || self.parent.is_some()
    }

    // ANCHOR: hierarchies
    /// Whether the container gets a directory in the v1 hierarchy of `controllers`.
    /// Every directory costs a `mkdir`, a `cgroup.procs` write (the slow one, see
    /// [`Layout::for_container`]) and an `rmdir`, so a container gets only those it
    /// uses: `devices` (its allow-list) and `freezer` (pause, commit, and the kill that
    /// finds all its processes) always, each other one for a limit asked of it, and the
    /// counted ones (`memory`, `cpu`, `cpuacct`, `pids`) with [`CgroupSpec::counters`].
    /// A cgroup placed by the user (`--cgroup-parent`, an OCI `cgroupsPath`) gets every
    /// hierarchy, as runc's does: whoever placed it may read any controller's files
    /// there (`podman stats`) or set a new limit later (`vessel update`).
    pub fn uses_hierarchy(&self, controllers: &[String]) -> bool {
        let r = &self.resources;
        self.parent.is_some()
            || controllers.iter().any(|c| match c.as_str() {
                "devices" | "freezer" => true,
                "memory" => r.memory_bytes.is_some() || self.counters,
                "cpu" => r.cpu_quota.is_some() || r.cpu_shares.is_some() || self.counters,
                "cpuacct" => self.counters,
                "pids" => r.pids_max.is_some() || self.counters,
                "cpuset" => r.cpuset_cpus.is_some(),
                "blkio" => r.blkio_weight.is_some(),
                _ => false,
            })
    }

    /// `layout` narrowed to the v1 hierarchies the container gets a directory in.
    fn narrowed(&self, layout: &Layout) -> Layout {
        match layout {
            Layout::V1(hierarchies) => Layout::V1(
                hierarchies
                    .iter()
                    .filter(|h| self.uses_hierarchy(&h.controllers))
                    .cloned()
                    .collect(),
            ),
            v2 => v2.clone(),
        }
    }
    // ANCHOR_END: hierarchies

    /// The layout this cgroup goes in on this machine ([`Layout::for_container`]): the
    /// one [`CgroupSpec::place`] read, or read now.
    pub fn layout(&self) -> Result<Layout> {
        match &self.placed {
            Some(placed) => Ok(placed.layout.clone()),
            None => Layout::for_container(self.needs_controllers()),
        }
    }

    /// The layout [`CgroupSpec::place`] read for this spec, if it ran.
    pub fn placement(&self) -> Option<&Layout> {
        self.placed.as_ref().map(|placed| &placed.layout)
    }

    /// Checks the spec against this machine ([`CgroupSpec::check`]), reads the layout
    /// it goes in and decides which of its hierarchies the container uses, once:
    /// whoever records the container's directories ([`CgroupSpec::dirs`]) and
    /// [`Cgroup::create`] then use this placement, and nothing is checked or read again.
    pub fn place(mut self) -> Result<CgroupSpec> {
        self.check()?;
        let layout = Layout::for_container(self.needs_controllers())?;
        self.placed = Some(Placement::of(&self, layout));
        Ok(self)
    }

    /// Puts the cgroup under `parent` instead (see [`CgroupSpec::parent`]).
    #[must_use]
    pub fn parent(mut self, parent: impl Into<PathBuf>) -> CgroupSpec {
        self.parent = Some(parent.into());
        self.placed = None;
        self
    }

    /// The directories [`Cgroup::create`] makes for this spec in `layout`, known before
    /// they exist: a container's record keeps them, so that `vessel rm -f` can remove
    /// them even if the process that made them was killed.
    pub fn dirs_in(&self, layout: &Layout) -> Vec<PathBuf> {
        self.dirs_of(&self.narrowed(layout))
    }

    /// The directories [`Cgroup::create`] makes for this spec where it goes: in the
    /// placement [`CgroupSpec::place`] decided, or (a spec not placed) in this
    /// machine's layout.
    pub fn dirs(&self) -> Result<Vec<PathBuf>> {
        match &self.placed {
            Some(placed) => Ok(self.dirs_of(&placed.used)),
            None => Ok(self.dirs_in(&self.layout()?)),
        }
    }

    /// The directories of this spec in `used`, a layout already narrowed to the
    /// hierarchies the container uses.
    fn dirs_of(&self, used: &Layout) -> Vec<PathBuf> {
        let parent = self.parent.as_deref();
        match used {
            Layout::V1(hierarchies) => hierarchies
                .iter()
                .map(|h| tree::container_dir(&h.mount, &h.own, parent, &self.name))
                .collect(),
            Layout::V2 { mount, own } => {
                vec![tree::container_dir(mount, own, parent, &self.name)]
            }
        }
    }

    /// Checks names and limits against this machine; nothing is created.
    pub fn check(&self) -> Result<()> {
        tree::check_names(self.parent.as_deref(), &self.name).map_err(|reason| {
            CgroupError::Resource(ResourceError::new("cgroup", self.name.clone(), reason))
        })?;
        let online = online_cpus()?;
        self.resources.check(&online)?;
        Ok(())
    }
}

/// The v1 or v2 implementation, chosen once by what the machine has.
#[derive(Debug)]
pub enum CgroupManager {
    /// One directory per controller hierarchy.
    V1(V1Cgroup),
    /// One directory in the unified hierarchy.
    V2(V2Cgroup),
}

/// A container's cgroup, removed (with anything still in it killed) when dropped.
#[derive(Debug)]
pub struct Cgroup {
    manager: CgroupManager,
    written: Vec<Written>,
    removed: bool,
    /// The spec asked for the counters ([`CgroupSpec::counters`]).
    counted: bool,
    /// A memory limit was set, so an OOM kill is possible and must be reported.
    oom_watched: bool,
}

impl Cgroup {
    // ANCHOR: create
    /// Creates the cgroup with its limits under this process's own cgroups, in the
    /// layout [`CgroupSpec::place`] checked it against (a spec not placed yet is placed
    /// now). A failure part-way removes what was made.
    pub fn create(spec: &CgroupSpec) -> Result<Cgroup> {
        match &spec.placed {
            Some(placed) => Cgroup::make(&placed.used, spec, placed.limited),
            None => {
                let placed = spec.clone().place()?;
                Cgroup::create(&placed)
            }
        }
    }

    /// Like [`Cgroup::create`] in a given layout (a fake tree in tests), without the
    /// checks against this machine.
    pub fn create_in(layout: &Layout, spec: &CgroupSpec) -> Result<Cgroup> {
        let placed = Placement::of(spec, layout.clone());
        Cgroup::make(&placed.used, spec, placed.limited)
    }

    /// Makes the cgroup of `spec` in `used` (its placement's layout, narrowed to the
    /// hierarchies it uses) and writes its limits.
    fn make(used: &Layout, spec: &CgroupSpec, limited: bool) -> Result<Cgroup> {
        let parent = spec.parent.as_deref();
        let manager = match used {
            Layout::V1(hierarchies) => {
                CgroupManager::V1(V1Cgroup::create(hierarchies, parent, &spec.name)?)
            }
            Layout::V2 { mount, own } => {
                CgroupManager::V2(V2Cgroup::create(mount, own, parent, &spec.name, limited)?)
            }
        };
        let mut cgroup = Cgroup {
            manager,
            written: Vec::new(),
            removed: false,
            counted: spec.counters,
            oom_watched: false,
        };
        // On error `cgroup` drops here, which removes the directories.
        cgroup.set(&spec.resources)?;
        Ok(cgroup)
    }
    // ANCHOR_END: create

    /// Which vocabulary this cgroup speaks.
    pub fn manager(&self) -> &CgroupManager {
        &self.manager
    }

    /// The container's cgroup directories: one per v1 hierarchy, or the v2 one.
    pub fn dirs(&self) -> Vec<PathBuf> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.dirs(),
            CgroupManager::V2(v2) => v2.dirs(),
        }
    }

    /// The directory holding `controller`'s files (`memory`, `cpu`, `cpuacct`, `pids`…).
    pub fn dir_of(&self, controller: &str) -> Option<&Path> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.dir(controller),
            CgroupManager::V2(v2) => Some(v2.dir()),
        }
    }

    /// On cgroup v2, an open descriptor of the container's directory, for
    /// `CLONE_INTO_CGROUP` (see [`crate::process::clone::clone3_in`]); `None` on v1, where the child
    /// is attached by pid instead.
    pub fn clone_into_fd(&self) -> Result<Option<OwnedFd>> {
        match &self.manager {
            CgroupManager::V1(_) => Ok(None),
            CgroupManager::V2(v2) => v2.open_dir().map(Some),
        }
    }

    /// Every file vessel wrote a limit to, with the value, in order.
    pub fn written(&self) -> &[Written] {
        &self.written
    }

    /// Moves `pid` into the cgroup (all of its processes to come follow it).
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.attach(pid),
            CgroupManager::V2(v2) => v2.attach(pid),
        }
    }

    /// Applies `resources`; limits not set there stay as they are. A memory limit
    /// written makes an OOM kill possible, so [`Cgroup::final_stats`] watches for one.
    pub fn set(&mut self, resources: &Resources) -> Result<()> {
        let memory = match &self.manager {
            CgroupManager::V1(v1) => resources.write_v1(|c| v1.need(c), &mut self.written)?,
            CgroupManager::V2(v2) => resources.write_v2(v2.dir(), &mut self.written)?,
        };
        self.oom_watched |= memory;
        Ok(())
    }

    /// The cgroup's counters now.
    pub fn stats(&self) -> Result<Stats> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.stats(),
            CgroupManager::V2(v2) => v2.stats(),
        }
    }

    // ANCHOR: final_stats
    /// The counters to keep once the container has exited, read only if someone asked
    /// for them: all of them with [`CgroupSpec::counters`] (`--stats`); with a memory
    /// limit but no counters only the OOM kills, which decide the exit report (137 and
    /// docker's `OOMKilled`); otherwise nothing, and no file is read.
    pub fn final_stats(&self) -> Result<Option<Stats>> {
        if self.counted {
            return self.stats().map(Some);
        }
        if !self.oom_watched {
            return Ok(None);
        }
        let oom_kills = match &self.manager {
            CgroupManager::V1(v1) => v1.oom_kills()?,
            CgroupManager::V2(v2) => v2.oom_kills()?,
        };
        Ok(Some(Stats {
            oom_kills,
            ..Stats::default()
        }))
    }
    // ANCHOR_END: final_stats

    // ANCHOR: restrict_devices
    /// Lets the cgroup's processes create and open only the devices `rules` allow:
    /// v1 `devices.deny` `a` then one `devices.allow` line per rule, v2 a BPF program.
    /// Called before any process is in the cgroup.
    pub fn restrict_devices(&mut self, rules: &DeviceRules) -> Result<()> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.restrict_devices(rules, &mut self.written),
            CgroupManager::V2(v2) => devices::bpf_attach::attach(rules, v2.open_dir()?.as_fd()),
        }
    }
    // ANCHOR_END: restrict_devices

    /// Stops every process in the cgroup where it stands (the freezer).
    pub fn freeze(&self) -> Result<()> {
        self.set_frozen(true)
    }

    /// Lets frozen processes run again.
    pub fn thaw(&self) -> Result<()> {
        self.set_frozen(false)
    }

    fn set_frozen(&self, frozen: bool) -> Result<()> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.set_frozen(frozen),
            CgroupManager::V2(v2) => v2.set_frozen(frozen),
        }
    }

    /// Kills every process in the cgroup and waits until they are gone.
    pub fn kill_all(&self) -> Result<()> {
        match &self.manager {
            CgroupManager::V1(v1) => v1.kill_all(),
            CgroupManager::V2(v2) => v2.kill_all(),
        }
    }

    /// Kills anything left and removes the cgroup's directories.
    pub fn remove(mut self) -> Result<()> {
        self.remove_now()
    }

    fn remove_now(&mut self) -> Result<()> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        match &mut self.manager {
            CgroupManager::V1(v1) => v1.remove(),
            CgroupManager::V2(v2) => v2.remove(),
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = self.remove_now();
    }
}
