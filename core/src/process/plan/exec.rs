//! Preparing `execve`: the argument and environment arrays, and the `PATH` search.
//!
//! `execvp` would search `PATH` for us, but glibc's version may allocate; so the parent
//! lists the full paths to try, and the child tries them in order.

use std::ffi::CString;

use super::cstring::cstring;
use super::step::ExecStep;
use crate::process::error::{ProcessError, Result};
use crate::process::spec::ContainerSpec;

/// Builds the exec step for `spec`. The spec has been validated: `argv` is not empty.
/// Its environment is checked here, the one place both `run` and `exec` pass through:
/// an entry with no `KEY=` (`-e =x`) is refused.
pub fn plan_exec(spec: &ContainerSpec) -> Result<ExecStep> {
    if let Some(bad) = spec.invalid_env_entry() {
        return Err(ProcessError::InvalidEnv(bad.to_owned()));
    }
    let command = spec.argv.first().cloned().unwrap_or_default();
    let args = spec
        .argv
        .iter()
        .map(|a| cstring("argument", a))
        .collect::<Result<Vec<_>>>()?;
    let env = spec
        .env
        .iter()
        .map(|e| cstring("environment entry", e))
        .collect::<Result<Vec<_>>>()?;
    let candidates = search_candidates(&command, spec.search_path())
        .into_iter()
        .map(|c| cstring("command", c))
        .collect::<Result<Vec<_>>>()?;
    let argv = null_terminated(&args);
    let envp = null_terminated(&env);
    Ok(ExecStep {
        command,
        candidates,
        args,
        env,
        argv,
        envp,
    })
}

/// The paths `execvp` would try: the command itself if it has a `/`, else each `PATH`
/// directory joined with it. Empty `PATH` entries are skipped (no implicit `.`).
pub fn search_candidates(command: &str, path: &str) -> Vec<String> {
    if command.contains('/') {
        return vec![command.to_owned()];
    }
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| format!("{}/{command}", dir.trim_end_matches('/')))
        .collect()
}

pub(super) fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::search_candidates;

    #[test]
    fn a_slash_means_no_search() {
        assert_eq!(search_candidates("./run", "/bin"), ["./run"]);
        assert_eq!(search_candidates("/bin/sh", "/bin:/usr/bin"), ["/bin/sh"]);
    }

    #[test]
    fn a_bare_name_is_tried_in_each_path_directory() {
        assert_eq!(
            search_candidates("sh", "/usr/bin/::/bin"),
            ["/usr/bin/sh", "/bin/sh"]
        );
    }
}
