//! OCI lifecycle hooks: programs a bundle asks the runtime to run at fixed points of the
//! container's life, each given the container's state as JSON on its stdin (runtime-spec
//! "config.md#posix-platform-hooks").
//!
//! Six points, in the order a container meets them:
//!
//! | point | where it runs | when |
//! |---|---|---|
//! | `prestart` (deprecated) | the runtime's namespaces | namespaces made, before `createRuntime` |
//! | `createRuntime` | the runtime's namespaces | namespaces made, the child waiting |
//! | `createContainer` | the container's namespaces, path found in the runtime's tree | mounts done, before `pivot_root` |
//! | `startContainer` | the container's namespaces and root | after `start`, before `execve` |
//! | `poststart` | the runtime's namespaces | the command started |
//! | `poststop` | the runtime's namespaces | the container deleted |
//!
//! The runtime's four run here ([`Hooks::run`]); the container's two are handed to the
//! child's plan ([`Hooks::in_container`]), which runs them itself
//! ([`crate::process::child::hooks`]).

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use oci_spec::runtime::{Hook, Spec};
use serde::{Deserialize, Serialize};

use super::{BundleError, unsupported};
use crate::process::hooks::{HookCommand, HookList, InContainerHooks, StateTemplate};

/// The points of a container's life at which vessel runs hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPoint {
    /// The deprecated `prestart`, run just before `createRuntime`, as runc does.
    Prestart,
    /// `createRuntime`: namespaces created, the command not yet started.
    CreateRuntime,
    /// `poststart`: the command started.
    Poststart,
    /// `poststop`: the container is gone.
    Poststop,
}

impl HookPoint {
    /// The name config.json gives the list.
    pub fn name(self) -> &'static str {
        match self {
            HookPoint::Prestart => "prestart",
            HookPoint::CreateRuntime => "createRuntime",
            HookPoint::Poststart => "poststart",
            HookPoint::Poststop => "poststop",
        }
    }

    /// The container's status while hooks of this point run.
    fn status(self) -> &'static str {
        match self {
            HookPoint::Prestart | HookPoint::CreateRuntime => "creating",
            HookPoint::Poststart => "running",
            HookPoint::Poststop => "stopped",
        }
    }
}

/// The state document a hook reads on stdin (runtime-spec "runtime.md#state").
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct State<'a> {
    oci_version: &'a str,
    id: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<libc::pid_t>,
    bundle: &'a Path,
    #[serde(skip_serializing_if = "std::collections::HashMap::is_empty")]
    annotations: &'a std::collections::HashMap<String, String>,
}

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook program could not be started or fed its state.
    #[error("{point} hook {path}: could not run it (check the path is absolute and executable)")]
    Start {
        point: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The hook exited unsuccessfully.
    #[error("{point} hook {path}: the hook {status}")]
    Failed {
        point: &'static str,
        path: PathBuf,
        status: crate::process::exit::ExitStatus,
    },
    /// The hook outlived the timeout config.json gave it, and was killed.
    #[error("{point} hook {path}: still running after its timeout of {seconds} s; killed it")]
    TimedOut {
        point: &'static str,
        path: PathBuf,
        seconds: i64,
    },
}

/// What [`Hooks::load`] reads of config.json.
#[derive(Deserialize)]
struct HooksPart {
    #[serde(rename = "ociVersion")]
    oci_version: String,
    #[serde(default)]
    annotations: Option<HashMap<String, String>>,
    #[serde(default)]
    hooks: Option<oci_spec::runtime::Hooks>,
}

/// The hooks of one bundle, by point, in the order config.json lists them.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    prestart: Vec<Hook>,
    create_runtime: Vec<Hook>,
    create_container: Vec<Hook>,
    start_container: Vec<Hook>,
    poststart: Vec<Hook>,
    poststop: Vec<Hook>,
    oci_version: String,
    annotations: HashMap<String, String>,
}

impl Hooks {
    /// The hooks `config` lists; refuses the kinds vessel cannot run where the spec says.
    pub fn from_config(config: &Spec) -> Result<Hooks, BundleError> {
        Hooks::from_parts(
            config.version().clone(),
            config.annotations().clone().unwrap_or_default(),
            config.hooks().as_ref(),
        )
    }

    fn from_parts(
        oci_version: String,
        annotations: HashMap<String, String>,
        given: Option<&oci_spec::runtime::Hooks>,
    ) -> Result<Hooks, BundleError> {
        let mut hooks = Hooks {
            oci_version,
            annotations,
            ..Hooks::default()
        };
        let Some(given) = given else {
            return Ok(hooks);
        };
        #[allow(deprecated)]
        let prestart = given.prestart();
        let lists = [
            (&mut hooks.prestart, "prestart", prestart),
            (
                &mut hooks.create_runtime,
                "createRuntime",
                given.create_runtime(),
            ),
            (
                &mut hooks.create_container,
                "createContainer",
                given.create_container(),
            ),
            (
                &mut hooks.start_container,
                "startContainer",
                given.start_container(),
            ),
            (&mut hooks.poststart, "poststart", given.poststart()),
            (&mut hooks.poststop, "poststop", given.poststop()),
        ];
        for (list, name, given) in lists {
            for (index, hook) in given.iter().flatten().enumerate() {
                check(name, index, hook)?;
                list.push(hook.clone());
            }
        }
        Ok(hooks)
    }

    /// The hooks of the bundle at `bundle` (its config.json read again: `start` and
    /// `delete` run in later processes than `create`). Only the fields the hooks need are
    /// built; serde skips the rest (a seccomp profile alone is ~10 KB of JSON, and
    /// building the whole spec was most of what `start` did besides starting).
    pub fn load(bundle: &Path) -> Result<Hooks, BundleError> {
        let text =
            std::fs::read(bundle.join("config.json")).map_err(|e| BundleError::Config(e.into()))?;
        let part: HooksPart =
            serde_json::from_slice(&text).map_err(|e| BundleError::Config(e.into()))?;
        Hooks::from_parts(
            part.oci_version,
            part.annotations.unwrap_or_default(),
            part.hooks.as_ref(),
        )
    }

    /// True when no hook is listed at all.
    pub fn is_empty(&self) -> bool {
        self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.create_container.is_empty()
            && self.start_container.is_empty()
            && self.poststart.is_empty()
            && self.poststop.is_empty()
    }

    /// The `startContainer` hooks in order (`vessel start` names a failing one by its
    /// place).
    pub fn start_container(&self) -> &[Hook] {
        &self.start_container
    }

    // ANCHOR: in_container
    /// The `createContainer` and `startContainer` hooks for the child's plan, with the
    /// state each point reads: status `creating` before `pivot_root`, `created` after
    /// `start` (as runc), the pid left for the child to fill in.
    pub fn in_container(&self, id: &str, bundle: &Path) -> InContainerHooks {
        let list = |hooks: &[Hook], status| HookList {
            hooks: hooks.iter().map(command).collect(),
            state: self.state_template(id, bundle, status),
        };
        InContainerHooks {
            create_container: list(&self.create_container, "creating"),
            start_container: list(&self.start_container, "created"),
            runtime_runs_hooks: !self.prestart.is_empty() || !self.create_runtime.is_empty(),
        }
    }
    // ANCHOR_END: in_container

    /// The state document cut where the pid goes; the same fields and order as
    /// [`State`].
    fn state_template(&self, id: &str, bundle: &Path, status: &'static str) -> StateTemplate {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Head<'a> {
            oci_version: &'a str,
            id: &'a str,
            status: &'static str,
        }
        #[derive(Serialize)]
        struct Tail<'a> {
            bundle: &'a Path,
            #[serde(skip_serializing_if = "std::collections::HashMap::is_empty")]
            annotations: &'a std::collections::HashMap<String, String>,
        }
        let head = Head {
            oci_version: &self.oci_version,
            id,
            status,
        };
        let tail = Tail {
            bundle,
            annotations: &self.annotations,
        };
        let head = serde_json::to_vec(&head).expect("the state document always serialises");
        let tail = serde_json::to_vec(&tail).expect("the state document always serialises");
        // `{"ociVersion":…,"status":"…"` + `,"pid":` and `,` + `"bundle":…}`.
        let mut before_pid = head[..head.len() - 1].to_vec();
        before_pid.extend_from_slice(b",\"pid\":");
        let mut after_pid = b",".to_vec();
        after_pid.extend_from_slice(&tail[1..]);
        StateTemplate {
            before_pid,
            after_pid,
        }
    }

    /// Runs the hooks of `point` in order, each with the container's state on stdin;
    /// stops at the first that fails.
    pub fn run(
        &self,
        point: HookPoint,
        id: &str,
        bundle: &Path,
        pid: Option<libc::pid_t>,
    ) -> Result<(), HookError> {
        let list = match point {
            HookPoint::Prestart => &self.prestart,
            HookPoint::CreateRuntime => &self.create_runtime,
            HookPoint::Poststart => &self.poststart,
            HookPoint::Poststop => &self.poststop,
        };
        if list.is_empty() {
            return Ok(());
        }
        let state = State {
            oci_version: &self.oci_version,
            id,
            status: point.status(),
            pid,
            bundle,
            annotations: &self.annotations,
        };
        let state = serde_json::to_vec(&state).expect("the state document always serialises");
        list.iter()
            .try_for_each(|hook| run_one(point.name(), hook, &state))
    }
}

/// A hook as the child's plan takes it (the timeout was checked to be positive).
fn command(hook: &Hook) -> HookCommand {
    HookCommand {
        path: hook.path().clone(),
        args: hook.args().clone().unwrap_or_default(),
        env: hook.env().clone().unwrap_or_default(),
        timeout_seconds: hook.timeout().map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
    }
}

fn check(list: &str, index: usize, hook: &Hook) -> Result<(), BundleError> {
    let field = || format!("hooks.{list}[{index}]");
    if !hook.path().is_absolute() {
        return Err(unsupported(field(), "the path must be absolute"));
    }
    if hook.timeout().is_some_and(|t| t <= 0) {
        return Err(unsupported(field(), "a timeout must be greater than zero"));
    }
    Ok(())
}

// ANCHOR: run_hook
/// Runs one hook: `args[0]` as its argv[0], exactly the environment it lists, the state
/// on stdin, and at most `timeout` seconds (then SIGKILL).
fn run_one(point: &'static str, hook: &Hook, state: &[u8]) -> Result<(), HookError> {
    let path = hook.path().clone();
    let start = |source| HookError::Start {
        point,
        path: path.clone(),
        source,
    };
    let args = hook.args().clone().unwrap_or_default();
    let mut command = Command::new(&path);
    if let Some((arg0, rest)) = args.split_first() {
        command.arg0(arg0).args(rest);
    }
    command.env_clear().stdin(Stdio::piped());
    for entry in hook.env().iter().flatten() {
        if let Some((key, value)) = entry.split_once('=') {
            command.env(key, value);
        }
    }
    let mut child = command.spawn().map_err(start)?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    // A hook that exits without reading its state is not an error: ignore EPIPE.
    match stdin.write_all(state) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(start(e));
        }
        _ => drop(stdin),
    }
    let timeout = hook
        .timeout()
        .map(|s| Duration::from_secs(s.unsigned_abs()));
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| start(std::io::Error::other(e)))?;
    if !crate::state::process::wait_until_gone_within(pid, timeout).map_err(start)? {
        let _ = child.kill();
        let _ = child.wait();
        return Err(HookError::TimedOut {
            point,
            path,
            seconds: hook.timeout().unwrap_or_default(),
        });
    }
    let status = child.wait().map_err(start)?;
    if status.success() {
        Ok(())
    } else {
        Err(HookError::Failed {
            point,
            path,
            status: crate::process::exit::ExitStatus::from_wait_status(status.into_raw()),
        })
    }
}
// ANCHOR_END: run_hook

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: state_template_test
    #[test]
    fn the_child_fills_the_template_into_the_same_state_document() {
        let config: Spec = serde_json::from_str(
            r#"{"ociVersion": "1.2.0", "annotations": {"a\"b": "c,\"pid\":9"},
                "hooks": {"createContainer": [{"path": "/bin/true"}]}}"#,
        )
        .unwrap();
        let hooks = Hooks::from_config(&config).unwrap();
        let bundle = Path::new("/srv/bundle \"x\"");
        let template = hooks.in_container("id-1", bundle).create_container.state;
        let mut filled = template.before_pid.clone();
        filled.extend_from_slice(b"4194304");
        filled.extend_from_slice(&template.after_pid);
        let state = State {
            oci_version: "1.2.0",
            id: "id-1",
            status: "creating",
            pid: Some(4_194_304),
            bundle,
            annotations: &hooks.annotations,
        };
        assert_eq!(
            String::from_utf8(filled).unwrap(),
            serde_json::to_string(&state).unwrap()
        );
    }
    // ANCHOR_END: state_template_test
}
