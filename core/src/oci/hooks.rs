//! OCI lifecycle hooks: programs a bundle asks the runtime to run at fixed points of the
//! container's life, each given the container's state as JSON on its stdin (runtime-spec
//! "config.md#posix-platform-hooks").
//!
//! vessel runs the hooks that run in the *runtime's* namespaces: `prestart` and
//! `createRuntime` once the container's namespaces exist but before its command may
//! start, `poststart` once it started, `poststop` after it is gone. `createContainer` and
//! `startContainer` run inside the container's mount namespace, which vessel cannot do
//! yet: a bundle that lists them is refused by name rather than run without them.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use oci_spec::runtime::{Hook, Spec};
use serde::Serialize;

use super::{BundleError, unsupported};

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
    #[error("{point} hook {path}: {status}")]
    Failed {
        point: &'static str,
        path: PathBuf,
        status: std::process::ExitStatus,
    },
    /// The hook outlived the timeout config.json gave it, and was killed.
    #[error("{point} hook {path}: still running after its timeout of {seconds} s; killed it")]
    TimedOut {
        point: &'static str,
        path: PathBuf,
        seconds: i64,
    },
}

/// The hooks of one bundle, by point, in the order config.json lists them.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    prestart: Vec<Hook>,
    create_runtime: Vec<Hook>,
    poststart: Vec<Hook>,
    poststop: Vec<Hook>,
    oci_version: String,
    annotations: std::collections::HashMap<String, String>,
}

impl Hooks {
    /// The hooks `config` lists; refuses the kinds vessel cannot run where the spec says.
    pub fn from_config(config: &Spec) -> Result<Hooks, BundleError> {
        let mut hooks = Hooks {
            oci_version: config.version().clone(),
            annotations: config.annotations().clone().unwrap_or_default(),
            ..Hooks::default()
        };
        let Some(given) = config.hooks() else {
            return Ok(hooks);
        };
        let inside = [
            ("createContainer", given.create_container()),
            ("startContainer", given.start_container()),
        ];
        if let Some((name, _)) = inside.iter().find(|(_, list)| list.is_some()) {
            return Err(unsupported(
                format!("hooks.{name}"),
                "vessel cannot run hooks inside the container's namespaces yet; remove them",
            ));
        }
        #[allow(deprecated)]
        let prestart = given.prestart();
        let lists = [
            (&mut hooks.prestart, "prestart", prestart),
            (
                &mut hooks.create_runtime,
                "createRuntime",
                given.create_runtime(),
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
    /// `delete` run in later processes than `create`).
    pub fn load(bundle: &Path) -> Result<Hooks, BundleError> {
        let config = Spec::load(bundle.join("config.json")).map_err(BundleError::Config)?;
        Hooks::from_config(&config)
    }

    /// True when no hook is listed at all.
    pub fn is_empty(&self) -> bool {
        self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.poststart.is_empty()
            && self.poststop.is_empty()
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
            status,
        })
    }
}
// ANCHOR_END: run_hook
