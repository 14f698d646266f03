//! RUN: the command runs in a vessel container on the image so far, with the defaults
//! every vessel container gets (docker's seccomp profile, capabilities, masked and
//! read-only paths, device cgroup, its own mount, UTS, IPC and PID namespaces; the
//! network is the host's, as with `vessel run` and `podman build --network host`).
//! What it writes lands in the container's upper dir, which the build then packs as the
//! step's layer, the same way `vessel commit` does; the init layer (`/etc/hosts`, …)
//! is never part of it.

use crate::image::ContainerFs;
use crate::process::spec::ContainerSpec;

use super::error::BuildError;
use super::expand::Vars;
use crate::image::ImageConfig;

// ANCHOR: run_step
/// Runs `argv` in `fs` (a container of the image so far) with the image's `config`
/// (ENV, WORKDIR, USER) and the build's `args` in the environment.
pub fn run(
    fs: &ContainerFs,
    id: &str,
    config: &ImageConfig,
    args: &Vars,
    argv: Vec<String>,
    line: usize,
    shown: &str,
) -> Result<(), BuildError> {
    let mut spec = ContainerSpec::new(fs.merged(), argv)
        .overlay(fs.overlay())
        .hostname(id)
        .cwd(config.working_dir());
    // Build args reach RUN's environment, below the image's own ENV, as in docker.
    for (key, value) in args {
        if config.env_var(key).is_none() {
            spec = spec.env(format!("{key}={value}"));
        }
    }
    for entry in &config.env {
        spec = spec.env(entry.clone());
    }
    if !config.user.is_empty() {
        spec.process_security.user = Some(crate::security::UserRequest {
            user: config.user.clone(),
            group_add: Vec::new(),
        });
    }
    let start = |e| BuildError::RunStart {
        line,
        command: shown.to_owned(),
        source: Box::new(e),
    };
    let mut running = crate::process::container::Container::spawn(&spec).map_err(start)?;
    let status = running.wait().map_err(start)?;
    if !status.success() {
        return Err(BuildError::RunFailed {
            line,
            command: shown.to_owned(),
            code: status.code(),
        });
    }
    Ok(())
}
// ANCHOR_END: run_step
