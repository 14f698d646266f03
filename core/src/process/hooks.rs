//! Hooks the container's own first process runs: the OCI `createContainer` and
//! `startContainer` points (runtime-spec "config.md#posix-platform-hooks"). The other
//! four points run in the runtime's namespaces and are the caller's business
//! ([`crate::oci::Hooks`]); these two run *inside* the container, so they are part of
//! the child's plan: the parent prepares every string, the child forks, execs and waits
//! (see [`crate::process::child::hooks`]).

use std::path::PathBuf;

/// The hooks of both in-container points; empty lists cost nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InContainerHooks {
    /// Run once the root filesystem and every mount in it are in place, before
    /// `pivot_root`: in the container's namespaces, with the path resolved in the
    /// runtime's mount tree (the container's mount namespace still holds it).
    pub create_container: HookList,
    /// Run after `start` released the container, just before `execve`: in the
    /// container's namespaces, with the path resolved in the container's root.
    pub start_container: HookList,
    /// The runtime runs prestart or createRuntime hooks while the child waits for its
    /// go: the spec runs them before `pivot_root`, so the child waits before its first
    /// step (see `Plan::for_spec`).
    pub runtime_runs_hooks: bool,
}

impl InContainerHooks {
    /// True when neither point lists a hook.
    pub fn is_empty(&self) -> bool {
        self.create_container.hooks.is_empty() && self.start_container.hooks.is_empty()
    }
}

/// The hooks of one point, in order, and the state document they read on stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookList {
    /// The hooks, in the order config.json lists them.
    pub hooks: Vec<HookCommand>,
    /// Their stdin.
    pub state: StateTemplate,
}

/// One hook: a program, its whole argv and environment, and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCommand {
    /// Absolute path of the program.
    pub path: PathBuf,
    /// Its argv, `args[0]` included (empty: the path alone).
    pub args: Vec<String>,
    /// Exactly the environment it gets (`KEY=VALUE`).
    pub env: Vec<String>,
    /// Seconds before it is killed; `None` waits for ever.
    pub timeout_seconds: Option<u32>,
}

/// The container's state as JSON, cut where the pid goes: the spec wants the pid "as
/// seen by the container" for these points, which only the child knows (1 in a PID
/// namespace of its own), so the child writes `before_pid`, its pid in decimal, then
/// `after_pid`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateTemplate {
    /// Up to and including `"pid":`.
    pub before_pid: Vec<u8>,
    /// From the `,` after the pid to the closing `}`.
    pub after_pid: Vec<u8>,
}
