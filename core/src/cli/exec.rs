//! `vessel exec`: run another command inside a running (detached) container.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::PathBuf;

use clap::Args;

use super::signals;
use crate::error::{Error, Result};
use crate::process::error::ProcessError;
use crate::process::spec::ContainerSpec;
use crate::process::tenant::Tenant;
use crate::state::Root;
use crate::state::StateDir;
use crate::tty::{self, RawMode, WindowWatch};

/// Arguments of `vessel exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Set an environment variable (repeatable); the rest comes from the container's
    /// first process.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(
        short = 'w',
        long = "workdir",
        alias = "cwd",
        value_name = "DIR",
        default_value = "/"
    )]
    pub workdir: PathBuf,
    /// For a container made by `vessel create`: the process to start, as OCI process
    /// JSON (`-` for stdin), as podman and containerd give it.
    #[arg(short = 'p', long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    /// For a container made by `vessel create`: return once the process started.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// For a container made by `vessel create`: write the process's pid here.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// For a container made by `vessel create`: send the terminal's master to this Unix
    /// socket (SCM_RIGHTS).
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Give the command a terminal of its own: a pty from the container's devpts (`tty`
    /// inside says /dev/pts/N) as its stdin, stdout, stderr and controlling terminal,
    /// relayed to this terminal, which is put in raw mode meanwhile; its size follows
    /// this one. Refused when stdin is not a terminal.
    #[arg(short = 't', long)]
    pub tty: bool,
    #[command(flatten)]
    pub security: super::security_args::ProcessSecurityArgs,
    /// The container's id, id prefix or name.
    pub container: String,
    /// The command to run and its arguments (after `--`).
    #[arg(
        required_unless_present = "process",
        trailing_var_arg = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// Joins the container and runs the command; returns the command's exit code.
pub fn exec(root: &Root, args: ExecArgs) -> Result<i32> {
    if super::oci::is_oci_container(root, &args.container) {
        return super::oci::exec::exec(
            root,
            super::oci::exec::OciExec {
                id: args.container,
                process: args.process,
                args: args.command,
                detach: args.detach,
                pid_file: args.pid_file,
                console_socket: args.console_socket,
                cwd: Some(args.workdir),
                env: args.env,
                tty: args.tty,
                user: args.security.user,
            },
        );
    }
    if args.process.is_some()
        || args.detach
        || args.pid_file.is_some()
        || args.console_socket.is_some()
    {
        return Err(Error::Oci(format!(
            "--process, --detach, --pid-file and --console-socket are for containers made by \
             `vessel create`; {:?} is not one",
            args.container
        )));
    }
    let record = StateDir::open_in(root)?.find(&args.container)?;
    if !record.is_running() {
        return Err(ProcessError::NotRunning {
            id: record.id.to_string(),
            status: record.observed_status(),
        }
        .into());
    }
    if !args.security.sysctl.is_empty() {
        return Err(Error::SecurityOption(
            "--sysctl belongs to the container, not to one command: set it with `vessel run`"
                .to_owned(),
        ));
    }
    args.security.check()?;
    let tenant = Tenant::new(record.pid, record.pid_start_time);
    let mut spec = ContainerSpec::new("/", args.command).cwd(args.workdir);
    // The container's own environment (as docker exec does), then the caller's -e.
    if let Ok(environ) = std::fs::read(format!("/proc/{}/environ", record.pid)) {
        for entry in environ.split(|b| *b == 0).filter(|e| e.contains(&b'=')) {
            spec = spec.env(String::from_utf8_lossy(entry).into_owned());
        }
    }
    if args.tty {
        if !std::io::stdin().is_terminal() {
            return Err(Error::NoTerminal);
        }
        if let Ok(term) = std::env::var("TERM") {
            spec = spec.env(format!("TERM={term}"));
        }
    }
    for entry in args.env {
        spec = spec.env(entry);
    }
    spec = args.security.apply(spec, false)?;
    let forwarder = signals::Forwarder::install()?;
    if args.tty {
        return exec_with_terminal(tenant, &spec, &forwarder);
    }
    let mut running = tenant.spawn(&spec)?;
    forwarder.forward_until_exit(&running)?;
    Ok(running.wait()?.code())
}

// ANCHOR: exec_with_terminal
/// `exec -t`: the command gets a pty of its own on the container's devpts, sized like
/// this terminal; this terminal goes raw and vessel relays bytes, and every change of
/// the window's size, until the command exits.
fn exec_with_terminal(
    tenant: Tenant,
    spec: &ContainerSpec,
    forwarder: &signals::Forwarder,
) -> Result<i32> {
    let stdin = std::io::stdin();
    // SIGWINCH is blocked before the size is read: a resize from here on is queued for
    // the relay, none falls between the read and the start.
    let resize = WindowWatch::install(stdin.as_fd())?;
    let size = tty::window_size(stdin.as_fd()).unwrap_or((0, 0));
    let (mut running, master) = tenant.spawn_with_terminal(spec, size)?;
    // Cooked again when `_raw` drops: on every way out of here, errors included (and
    // `running`, dropped on an error, is killed and reaped).
    let _raw = RawMode::enter(stdin.as_fd())?;
    tty::relay_with(
        &master,
        running.pidfd(),
        forwarder.fd(),
        || forwarder.forward_pending(&running),
        tty::Relay {
            without_stdin: false,
            resize: Some(&resize),
        },
    )?;
    Ok(running.wait()?.code())
}
// ANCHOR_END: exec_with_terminal
