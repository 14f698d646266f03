//! `vessel start ID`: let a created container's init run its `startContainer` hooks and
//! its command.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;

use clap::Args;

use crate::error::{Error, Result};
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::state::OciStatus;
use crate::oci::{HookPoint, Hooks};
use crate::process::error::ProcessError;
use crate::process::pipe::{Report, read_report};
use crate::process::plan::describe_hook;
use crate::state::Root;

/// Arguments of `vessel start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The container's id.
    pub id: String,
}

// ANCHOR: start
/// Writes the one byte the waiting init reads from `exec.fifo`; with `startContainer`
/// hooks, waits until the init has run them and exec'd its command (a failing hook
/// fails `start`, and the container is destroyed as the spec says); then runs the
/// `poststart` hooks (a failing one is a warning, as the spec says).
pub fn start(root: &Root, args: StartArgs) -> Result<i32> {
    let (store, record, status) = super::load(root, &args.id)?;
    if status != OciStatus::Created {
        return Err(super::wrong_status(
            &args.id,
            "start",
            status,
            "only a created container starts",
        ));
    }
    let fifo_path = store.fifo(&record.id);
    // Non-blocking: if the init is gone, there is no reader and open fails (ENXIO)
    // instead of waiting for ever.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo_path)
        .map_err(OciCommandError::io(OciStep::OpenExecFifoToStart))?;
    // Opened before the byte is written, so nothing the init reports can be lost.
    let reply = open_reply_fifo(&fifo_path)?;
    // Gone first: from here `state` says running, and nobody can start it twice.
    std::fs::remove_file(&fifo_path).map_err(OciCommandError::io(OciStep::RemoveExecFifo))?;
    fifo.write_all(&[0])
        .map_err(OciCommandError::io(OciStep::WriteExecFifo))?;
    let hooks = Hooks::load(record.bundle()).unwrap_or_default();
    if let Some(reply) = reply {
        match hear_exec(reply, &hooks)? {
            Heard::Exec => {}
            Heard::HookFailed(error) => {
                // The init has exited (or is about to): undo create, then poststop.
                super::delete::remove(&store, &record)?;
                return Err(error);
            }
            // The container stopped (127, 126): its record stays for `delete`.
            Heard::ExecFailed(error) => return Err(error),
        }
    }
    if let Err(error) = hooks.run(
        HookPoint::Poststart,
        &args.id,
        record.bundle(),
        Some(record.pid),
    ) {
        crate::cli::output::errln!("vessel: warning: {}", crate::cli::error_chain(&error));
    }
    Ok(0)
}
// ANCHOR_END: start

/// The fifo beside `exec.fifo` through which a container with `startContainer` hooks
/// tells `start` how they and its `execve` went.
const REPLY_FIFO: &str = "start-reply.fifo";

/// Makes the reply fifo in the container's state directory and opens it read-write for
/// the init (close-on-exec: its `execve` closes it, which `start` reads as success).
pub(super) fn make_reply_fifo(state_dir: &Path) -> Result<OwnedFd> {
    let path = state_dir.join(REPLY_FIFO);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .map_err(|e| OciCommandError::io(OciStep::MakeReplyFifo)(e.into()))?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(OciCommandError::io(OciStep::OpenReplyFifo))?;
    Ok(file.into())
}

/// Opens the reply fifo for reading, if the container has one: without blocking (the
/// init holds a writer, but a dead init would not), then blocking for the read.
fn open_reply_fifo(exec_fifo: &Path) -> Result<Option<OwnedFd>> {
    let path = exec_fifo.with_file_name(REPLY_FIFO);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OciCommandError::io(OciStep::OpenReplyFifo)(source).into());
        }
    };
    let fd = OwnedFd::from(file);
    let blocking = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()));
    blocking.map_err(|e| OciCommandError::io(OciStep::MakeReplyFifoBlocking)(e.into()))?;
    Ok(Some(fd))
}

/// What the reply fifo said.
enum Heard {
    /// End-of-file only: the command runs.
    Exec,
    /// A `startContainer` hook failed.
    HookFailed(Error),
    /// The command could not be executed, or the init died before.
    ExecFailed(Error),
}

/// Reads the reply until the init's `execve` closes it: nothing means the command
/// runs; a report names the `startContainer` hook (or the `execve`) that failed.
fn hear_exec(reply: OwnedFd, hooks: &Hooks) -> Result<Heard> {
    let failure = match read_report(reply)? {
        Report::Started => return Ok(Heard::Exec),
        Report::Failed(failure) => failure,
        Report::Vanished => {
            return Ok(Heard::ExecFailed(Error::Oci(
                "the container's init died before its command started".into(),
            )));
        }
    };
    let index = failure.step as usize;
    Ok(match hooks.start_container().get(index) {
        Some(hook) => Heard::HookFailed(
            ProcessError::Hook {
                hook: describe_hook("startContainer", index, &hook.path().display().to_string()),
                outcome: failure.hook_outcome(),
            }
            .into(),
        ),
        None => Heard::ExecFailed(
            ProcessError::Step {
                step: "execve of the container's command".into(),
                source: std::io::Error::from_raw_os_error(failure.errno),
            }
            .into(),
        ),
    })
}
