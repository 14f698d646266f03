//! Planning the OCI hooks the child runs itself ([`crate::process::hooks`]): every C
//! string, both pointer arrays and the memfd for the state are made here, in the
//! parent, so running a hook in the child is fork, exec and wait on memory it already
//! has.

use std::os::fd::{FromRawFd, OwnedFd};

use super::cstring::cstring;
use super::step::{HookStep, Step};
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep};
use crate::process::hooks::{HookList, InContainerHooks};

/// The steps of both points, and the memfd they share (`None` without hooks): the
/// caller keeps it open for as long as the plan lives.
#[derive(Debug)]
pub struct HookSteps {
    /// The `createContainer` steps: after the mounts, before `pivot_root`.
    pub create_container: Vec<Step>,
    /// The `startContainer` steps: after `start`, just before `execve`.
    pub start_container: Vec<Step>,
    /// The hooks' stdin, written by the child before each hook.
    pub state_fd: Option<OwnedFd>,
}

/// Plans `hooks`. One memfd serves every hook: they run one at a time, and the child
/// rewrites it before each.
pub fn plan(hooks: &InContainerHooks) -> Result<HookSteps> {
    if hooks.is_empty() {
        return Ok(HookSteps {
            create_container: Vec::new(),
            start_container: Vec::new(),
            state_fd: None,
        });
    }
    // SAFETY: a static C string and a flag word; the kernel returns a new descriptor.
    let fd = unsafe { libc::memfd_create(c"vessel-hook-state".as_ptr(), libc::MFD_CLOEXEC) };
    if fd == -1 {
        return Err(ProcessError::last_os(ProcessStep::HooksStateMemfd));
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned by nothing else.
    let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(HookSteps {
        create_container: steps("createContainer", &hooks.create_container, fd)?,
        start_container: steps("startContainer", &hooks.start_container, fd)?,
        state_fd: Some(memfd),
    })
}

fn steps(point: &'static str, list: &HookList, state_fd: libc::c_int) -> Result<Vec<Step>> {
    list.hooks
        .iter()
        .enumerate()
        .map(|(index, hook)| {
            let path = cstring("hook path", &hook.path)?;
            let mut args = hook
                .args
                .iter()
                .map(|a| cstring("hook argument", a))
                .collect::<Result<Vec<_>>>()?;
            if args.is_empty() {
                args.push(path.clone());
            }
            let env = hook
                .env
                .iter()
                .map(|e| cstring("hook environment entry", e))
                .collect::<Result<Vec<_>>>()?;
            let argv = super::exec::null_terminated(&args);
            let envp = super::exec::null_terminated(&env);
            Ok(Step::Hook(HookStep {
                point,
                index,
                path,
                args,
                env,
                argv,
                envp,
                timeout_ms: hook.timeout_seconds.map(|s| {
                    libc::c_int::try_from(u64::from(s) * 1000).unwrap_or(libc::c_int::MAX)
                }),
                state_fd,
                state: list.state.clone(),
            }))
        })
        .collect()
}
