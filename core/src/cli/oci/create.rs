//! `vessel create --bundle DIR [--pid-file F] [--console-socket S] ID`: set the container
//! up and leave its init waiting for `vessel start`, with every step but `execve` done
//! (namespaces, mounts, cgroup, id maps, capabilities, seccomp, the `createContainer`
//! hooks), the same defaults as `vessel run --bundle`. Returns once the init waits; no
//! vessel process stays.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::Stdio;
use crate::error::{Error, Result};
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::state::{self as oci_state, OciStore};
use crate::oci::{self, BundleError, HookPoint};
use crate::process::container::{Container, StartGate};
use crate::state::Root;
use crate::state::{ContainerId, OciSection, paths, process};
use crate::tty::TerminalRequest;

/// Arguments of `vessel create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The bundle: a directory with config.json and the root filesystem.
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init's pid (as the host numbers it) to this file.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// A Unix socket to send the terminal's master to (SCM_RIGHTS), when config.json
    /// asks for `process.terminal`.
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Pass this many descriptors after stderr (3, 4, …) to the container.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Use chroot instead of pivot_root: refused, a container must not keep the host's
    /// root mounted under it.
    #[arg(long)]
    pub no_pivot: bool,
    /// Keep the caller's session keyring instead of a fresh one.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// The container's id.
    pub id: String,
}

/// Creates the container; its init waits for `vessel start`.
pub fn create(root: &Root, args: CreateArgs) -> Result<i32> {
    if args.no_pivot {
        return Err(Error::Oci(
            "--no-pivot: vessel always uses pivot_root, so the host's root is never left \
             mounted under the container; drop the flag (containerd: NoPivotRoot = false)"
                .into(),
        ));
    }
    let store = OciStore::open_in(root);
    let checked: ContainerId = args.id.parse()?;
    let dir =
        std::path::absolute(&args.bundle).map_err(OciCommandError::io(OciStep::FindBundle))?;
    let bad = |source: BundleError| Error::Bundle {
        bundle: dir.clone(),
        source,
    };
    let mut bundle = oci::Bundle::load(&dir, &args.id).map_err(bad)?;
    for warning in &bundle.warnings {
        crate::cli::output::errln!("vessel: warning: {warning}");
    }
    let spec = &mut bundle.spec;
    if args.no_new_keyring {
        spec.process_security.new_session_keyring = false;
    }
    if args.preserve_fds > 0 {
        spec.process_security.keep_fds = Some((3, 2 + args.preserve_fds as i32));
    }
    let console = match (bundle.terminal, &args.console_socket) {
        (true, Some(path)) => Some(connect(path)?),
        (true, None) => {
            return Err(Error::Oci(
                "config.json sets process.terminal: give --console-socket PATH to receive \
                 the terminal"
                    .into(),
            ));
        }
        (false, Some(_)) => {
            return Err(Error::Oci(
                "--console-socket given but config.json has no process.terminal: true".into(),
            ));
        }
        (false, None) => None,
    };
    if let Some(socket) = &console {
        let (rows, cols) = bundle.console_size;
        spec.terminal = Some(TerminalRequest {
            socket: socket.as_raw_fd(),
            rows,
            cols,
        });
    }
    let state_dir = store.reserve(&checked)?;
    let created = create_in(&store, &args, &checked, &dir, &bundle, &state_dir);
    if created.is_err() {
        let _ = store.remove(&checked);
        // The spec's lifecycle goes on at "destroy", then the poststop hooks.
        if let Err(error) = bundle.hooks.run(HookPoint::Poststop, &args.id, &dir, None) {
            crate::cli::output::errln!("vessel: warning: {}", crate::cli::error_chain(&error));
        }
    }
    created
}

fn create_in(
    store: &OciStore,
    args: &CreateArgs,
    checked: &ContainerId,
    dir: &Path,
    bundle: &oci::Bundle,
    state_dir: &Path,
) -> Result<i32> {
    // Read-write: the init is then never the fifo's only end, so its read blocks until
    // `start` writes, and `start` can tell the init is waiting by opening it.
    let fifo: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(paths::exec_fifo(state_dir))
        .map_err(OciCommandError::io(OciStep::OpenExecFifo))?
        .into();
    let hooks = &bundle.hooks;
    // With startContainer hooks, `start` must hear how they went: a second fifo.
    let reply = match hooks.start_container() {
        [] => None,
        _ => Some(super::start::make_reply_fifo(state_dir)?),
    };
    let gate = StartGate {
        exec_fifo: fifo.as_fd(),
        reply: reply.as_ref().map(AsFd::as_fd),
    };
    let id = &args.id;
    let running = Container::create(&bundle.spec, Stdio::default(), gate, |pid| {
        bundle
            .set_oom_score_adj(pid)
            .map_err(OciCommandError::io(OciStep::WriteOomScoreAdj))?;
        for point in [HookPoint::Prestart, HookPoint::CreateRuntime] {
            hooks
                .run(point, id, dir, Some(pid))
                .map_err(|e| Error::Bundle {
                    bundle: dir.to_owned(),
                    source: e.into(),
                })?;
        }
        Ok::<(), Error>(())
    })?;
    let pid = running.pid();
    let pid_start_time = process::start_time(pid).unwrap_or(0);
    let (pid, cgroup_dirs) = running.detach();
    let section = OciSection {
        bundle: dir.to_owned(),
        annotations: bundle.annotations.clone(),
    };
    let record = oci_state::created(
        checked.clone(),
        section,
        bundle.spec.rootfs.clone(),
        bundle.spec.argv.clone(),
        (pid, pid_start_time),
        cgroup_dirs,
    );
    let saved = store
        .save(&record)
        .map_err(Error::from)
        .and_then(|()| match &args.pid_file {
            Some(file) => write_pid_file(file, pid),
            None => Ok(()),
        });
    if let Err(error) = saved {
        // SAFETY: kill takes plain integers; `pid` is the init we just made and that
        // still waits (it cannot exit before `start`), so it has not been recycled.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        return Err(error);
    }
    Ok(0)
}

/// Connects to the console socket the caller listens on.
fn connect(path: &Path) -> Result<UnixStream> {
    let stream =
        UnixStream::connect(path).map_err(OciCommandError::io(OciStep::ConnectConsoleSocket))?;
    Ok(stream)
}

/// Writes `pid` to `file` whole or not at all (a temporary file renamed), as runc does:
/// conmon reads it as soon as `create` exits.
pub fn write_pid_file(file: &Path, pid: libc::pid_t) -> Result<()> {
    let scratch = file.with_extension("vessel-tmp");
    std::fs::write(&scratch, pid.to_string())
        .and_then(|()| std::fs::rename(&scratch, file))
        .map_err(OciCommandError::io(OciStep::WritePidFile))?;
    Ok(())
}
