//! A check: one invariant in one line of plain English, and the code that tests it.
//!
//! Adding a check is adding one [`Check`] to its area's list in `checks/AREA.rs`.

use crate::runtime::Runtime;
use crate::world::World;

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The invariant does not hold (or the check could not run): the reason.
    Fail(String),
    /// The check does not apply here: the reason (vessel-only, a missing kernel feature).
    Skip(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure::Fail(reason)
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Failure {
        Failure::Fail(reason.to_owned())
    }
}

/// What a check's code returns.
pub type Outcome = Result<(), Failure>;

/// What a check needs beyond a runtime that can start the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// vessel's own API (layers, commit, exec through the library): skipped for peers.
    VesselApi,
    /// A cgroup controller, by name, in the hierarchy this host uses.
    Controller(&'static str),
    /// User namespaces.
    UserNamespaces,
    /// overlayfs.
    Overlay,
    /// Time namespaces (Linux 5.6, CONFIG_TIME_NS).
    TimeNamespaces,
}

/// Everything a check may use.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The host-side environment: rootfs, probe, work directory.
    pub world: &'a World,
    /// The runtime under test.
    pub runtime: &'a Runtime,
}

/// One named invariant.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// The area it belongs to (`pid`, `mount`, `cgroup`…).
    pub area: &'static str,
    /// Its name, unique within the area.
    pub name: &'static str,
    /// The invariant, in one line of plain English.
    pub claim: &'static str,
    /// What it needs to run at all (beyond root and the PID, mount, UTS, IPC, network
    /// and cgroup namespaces every check uses).
    pub needs: &'static [Needs],
    /// The check.
    pub run: fn(&Ctx) -> Outcome,
}

impl Needs {
    /// The three controllers a container with memory, CPU and pids limits needs.
    pub const LIMITS: &'static [Needs] = &[
        Needs::Controller("memory"),
        Needs::Controller("cpu"),
        Needs::Controller("pids"),
    ];

    /// How `--list` shows it.
    pub fn describe(self) -> String {
        match self {
            Needs::VesselApi => "vessel-api".to_owned(),
            Needs::Controller(c) => format!("cgroup:{c}"),
            Needs::UserNamespaces => "userns".to_owned(),
            Needs::Overlay => "overlayfs".to_owned(),
            Needs::TimeNamespaces => "timens".to_owned(),
        }
    }
}

impl Check {
    /// `area.name`, as printed and matched by `--filter`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.area, self.name)
    }
}

/// Fails with `reason` unless `condition` holds.
pub fn ensure(condition: bool, reason: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(Failure::Fail(reason()))
    }
}
