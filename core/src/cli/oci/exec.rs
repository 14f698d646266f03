//! `vessel exec [--process FILE.json] [--detach] [--pid-file F] [--console-socket S] ID
//! [ARGS…]` for a container made by `vessel create`: the process joins its namespaces,
//! cgroup and root (as `vessel exec` does) with the container's own seccomp profile and
//! the process's capabilities, user and environment from FILE (podman and containerd
//! write one), or ARGS with the container's environment.

use std::os::fd::AsRawFd;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::state::OciStatus;
use crate::process::tenant::Tenant;
use crate::state::Root;

/// What `vessel exec` was asked, for an OCI container.
#[derive(Debug)]
pub struct OciExec {
    /// The container's id.
    pub id: String,
    /// `--process FILE.json` (`-` for stdin).
    pub process: Option<PathBuf>,
    /// The command, when no `--process`.
    pub args: Vec<String>,
    /// `--detach`: return once the process started.
    pub detach: bool,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--console-socket`.
    pub console_socket: Option<PathBuf>,
    /// `--cwd`.
    pub cwd: Option<PathBuf>,
    /// `--env`.
    pub env: Vec<String>,
    /// `--tty`.
    pub tty: bool,
    /// `--user UID[:GID]`.
    pub user: Option<String>,
}

/// Starts the process; with `--detach` returns at once, else its exit code.
pub fn exec(root: &Root, request: OciExec) -> Result<i32> {
    let (_, record, status) = super::load(root, &request.id)?;
    if status != OciStatus::Running {
        return Err(super::wrong_status(
            &request.id,
            "exec in",
            status,
            "start it first",
        ));
    }
    let process = match &request.process {
        Some(file) => read_process(file)?,
        None => default_process(&record, &request)?,
    };
    let (rows, cols) = crate::oci::console_size(&process);
    let bad = |source| Error::Bundle {
        bundle: record.bundle().to_owned(),
        source,
    };
    let (mut spec, terminal) =
        crate::oci::exec_spec(record.bundle(), &request.id, process).map_err(bad)?;
    if terminal != request.console_socket.is_some() {
        return Err(Error::Oci(
            "exec: a terminal (process.terminal or --tty) needs --console-socket, and \
             --console-socket needs a terminal"
                .into(),
        ));
    }
    let console = request
        .console_socket
        .as_ref()
        .map(|path| {
            std::os::unix::net::UnixStream::connect(path)
                .map_err(OciCommandError::io(OciStep::ConnectConsoleSocket))
        })
        .transpose()?;
    if let Some(socket) = &console {
        spec.terminal = Some(crate::tty::TerminalRequest {
            socket: socket.as_raw_fd(),
            rows,
            cols,
        });
    }
    let tenant = Tenant::new(record.pid, record.pid_start_time);
    let mut running = tenant.spawn(&spec)?;
    if let Some(file) = &request.pid_file {
        super::create::write_pid_file(file, running.pid())?;
    }
    if request.detach {
        // Our caller (conmon, the shim) is its subreaper and reaps it.
        running.detach();
        return Ok(0);
    }
    Ok(running.wait()?.code())
}

fn read_process(file: &std::path::Path) -> Result<oci_spec::runtime::Process> {
    let text = if file == std::path::Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| text)
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(OciCommandError::io(OciStep::ReadProcess))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Oci(format!(
            "--process {}: not an OCI process JSON: {e}",
            file.display()
        ))
    })
}

/// The process for `exec ID ARGS…`: the container's own process with ARGS, `--cwd`,
/// `--env` added, `--user`, `--tty`.
fn default_process(
    record: &crate::state::Record,
    request: &OciExec,
) -> Result<oci_spec::runtime::Process> {
    if request.args.is_empty() {
        return Err(Error::Oci(
            "exec: give --process FILE.json or a command".into(),
        ));
    }
    let config =
        oci_spec::runtime::Spec::load(record.bundle().join("config.json")).map_err(|e| {
            Error::Bundle {
                bundle: record.bundle().to_owned(),
                source: crate::oci::BundleError::Config(e),
            }
        })?;
    let mut process = config.process().clone().unwrap_or_default();
    process.set_args(Some(request.args.clone()));
    process.set_terminal(Some(request.tty));
    if let Some(cwd) = &request.cwd {
        process.set_cwd(cwd.clone());
    }
    let mut env = process.env().clone().unwrap_or_default();
    env.extend(request.env.iter().cloned());
    process.set_env(Some(env));
    if let Some(user) = &request.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let parse = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| Error::Oci(format!("--user {user}: give UID[:GID] as numbers")))
        };
        let mut spec_user = process.user().clone();
        spec_user.set_uid(parse(uid)?);
        spec_user.set_gid(parse(gid)?);
        process.set_user(spec_user);
    }
    Ok(process)
}
