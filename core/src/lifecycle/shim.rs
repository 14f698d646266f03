//! Detaching: start a container that outlives the process that asked for it.
//!
//! The caller forks an ordinary copy of itself — no re-exec of `/proc/self/exe`, which is
//! where other runtimes spend their start-up time: the *shim*. The shim starts the
//! container (so it is the container's parent), tells the caller "started" or why not
//! over a pipe, copies the container's stdout and stderr into its log, and when the
//! container exits reaps it and records the exit status and whether the OOM killer
//! struck. It lives on in a session of its own (`setsid`), away from the terminal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::unistd::{ForkResult, fork};

use super::error::Result;
use super::error::{LifecycleError, LifecycleStep};
use super::log::LogWriter;
use super::{Pinned, Tracked, clean_up, relay, resident, settle};
use crate::process::container::Container;
use crate::process::pipe::Pipe;
use crate::process::spec::ContainerSpec;
use crate::process::stdio::Stdio;
use crate::state::{Observed, StateError, StateStep};
use crate::sys::crash::hold_point;

/// What the shim sends when the container's command has started.
const STARTED: &str = "started";

/// A container started by [`run_detached`].
#[derive(Debug, Clone, Copy)]
pub struct Detached {
    /// The shim: a child of the caller until the caller exits. The caller should reap
    /// it (`waitpid`) if it outlives the shim, or a zombie is left.
    pub shim_pid: libc::pid_t,
}

// ANCHOR: run_detached
/// Forks the shim that runs the container `tracked` records, and returns once the
/// container runs, or with the reason it could not start. The shim calls `after_exit`
/// once the container has exited (`--rm` removes its layers there).
///
/// The caller must be single-threaded: a fork copies only the calling thread, and a
/// lock another thread held (the allocator's, say) would stay locked in the shim for ever.
pub fn run_detached(
    spec: &ContainerSpec,
    tracked: Tracked,
    after_exit: impl FnOnce(),
) -> Result<Detached> {
    let threads = thread_count();
    if threads != 1 {
        return Err(LifecycleError::MultiThreaded(threads));
    }
    let report = Pipe::new()?;
    // SAFETY: this process has one thread (checked above), so the child is a complete
    // copy of a single-threaded process and may run any code, the allocator included.
    match unsafe { fork() } {
        Err(e) => Err(LifecycleError::io(LifecycleStep::ForkShim)(e.into())),
        Ok(ForkResult::Child) => {
            drop(report.read);
            let code = shim(tracked, spec, report.write, after_exit);
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(report.write);
            let mut message = String::new();
            let _ = File::from(report.read).read_to_string(&mut message);
            if message == STARTED {
                tracked.hand_over();
                return Ok(Detached {
                    shim_pid: child.as_raw(),
                });
            }
            // The shim failed and is exiting (or was killed); reap it so no zombie is
            // left, then make sure nothing of the container is.
            let _ = nix::sys::wait::waitpid(child, None);
            abandon(tracked);
            let (code, text) = message
                .split_once('\n')
                .unwrap_or(("125", "the container's supervisor died before starting it"));
            Err(LifecycleError::Detached {
                message: text.to_owned(),
                code: code.parse().unwrap_or(125),
            })
        }
    }
}
// ANCHOR_END: run_detached

/// The shim: runs in the forked child, returns its own exit code.
fn shim(
    mut tracked: Tracked,
    spec: &ContainerSpec,
    report: OwnedFd,
    after_exit: impl FnOnce(),
) -> i32 {
    // A session of its own: no terminal, so no SIGHUP or Ctrl-C reaches it.
    let _ = nix::unistd::setsid();
    let started = (|| {
        let null = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(LifecycleError::io(LifecycleStep::OpenDevNull))?;
        // The shim's own stdio leaves the terminal (and any pipe) the caller was started
        // from, so whoever reads the caller's output sees its end when the caller exits.
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors of this single-threaded shim;
            // `null` stays open for the duration of the call.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
        tracked.supervise_here()?;
        hold_point("shim-supervised");
        let log_path = tracked.dir().log_path(tracked.id());
        let log =
            LogWriter::create(&log_path).map_err(StateError::io(log_path, StateStep::CreateLog))?;
        let (out, err) = (Pipe::new()?, Pipe::new()?);
        // The pid is recorded before the child may exec: killed at any moment from here
        // on, the shim leaves either a recorded pid or a child that exits by itself
        // (end-of-file on its go pipe), never an orphan nobody can find.
        let running = Container::spawn_supervised(
            spec,
            Stdio {
                stdin: Some(null.as_fd()),
                stdout: Some(out.write.as_fd()),
                stderr: Some(err.write.as_fd()),
            },
            |pid| tracked.cloned(pid),
        )?;
        // Only the container may hold the write ends now: when it is gone, the reads
        // see end-of-file.
        drop((out.write, err.write));
        // A `vessel rm -f` meanwhile removed the record: then `running` drops, which
        // kills the container.
        tracked.started(&running)?;
        Ok::<_, LifecycleError>((running, out.read, err.read, log))
    })();
    let (mut running, out, err, mut log) = match started {
        Ok(started) => started,
        Err(error) => {
            send(
                report,
                &format!(
                    "{}\n{}",
                    error.exit_code(),
                    crate::error_chain::chain(&error)
                ),
            );
            return 1;
        }
    };
    send(report, STARTED);
    // From here on the shim only relays and waits, for as long as the container lives.
    resident::shed_start_up_memory();
    relay::relay(out, err, &running, &mut log);
    let status = running.wait();
    let oom_killed = running.oom_killed();
    if let Ok(status) = status {
        let _ = log.exited(status.code(), oom_killed);
    }
    after_exit();
    let _ = tracked.exited(status.ok(), oom_killed);
    0
}

/// After the shim died or failed before starting the container: kill the container if
/// it runs all the same (the shim was killed right after the start), and remove its
/// cgroups, log and record. Its layers are the caller's to remove (it holds their
/// lock): `vessel run` does that as it returns.
fn abandon(tracked: Tracked) {
    let dir = tracked.dir().clone();
    let id = tracked.id().clone();
    tracked.hand_over();
    let Ok(record) = dir.load(&id) else {
        return;
    };
    if record.observed() == Observed::Running
        && let Some(container) = Pinned::open(record.pid, record.pid_start_time)
    {
        let _ = container.signal(libc::SIGKILL);
        let _ = container.wait_exit(None);
    }
    if let Ok(Some(mut last)) = settle(&dir, &record) {
        last.layers_dir = None;
        let _ = clean_up(&dir, &last);
    }
}

fn send(report: OwnedFd, message: &str) {
    let _ = File::from(report).write_all(message.as_bytes());
}

/// How many threads this process has (`Threads:` in `/proc/self/status`).
fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Record, StateDir};

    #[test]
    fn a_multi_threaded_caller_is_refused_and_the_record_goes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        let record = Record::new(
            "0123456789ab".parse().unwrap(),
            None,
            vec!["true".into()],
            "/".into(),
        );
        let tracked = Tracked::create(dir.clone(), record).unwrap();
        // libtest runs this on a thread of its own: there are at least two.
        let spec = ContainerSpec::new("/", ["true"]);
        let error = run_detached(&spec, tracked, || {}).unwrap_err();
        assert!(
            matches!(error, LifecycleError::MultiThreaded(n) if n > 1),
            "{error}"
        );
        assert!(dir.list().unwrap().is_empty());
    }
}
