//! `vessel run -d`: start a container that outlives the command that started it.
//!
//! The CLI is single-threaded here, so it may `fork` an ordinary Rust process — no
//! re-exec of `/proc/self/exe`: the *shim*. The shim starts the container (it is the
//! container's parent), tells the CLI "started" or why not over a pipe, copies the
//! container's stdout and stderr into its log, and when the container exits reaps it
//! and records the exit status and whether the OOM killer struck. The CLI prints the id
//! and returns at once; the shim lives on in a session of its own (`setsid`), away from
//! the terminal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::unistd::{ForkResult, fork};

use crate::container::Container;
use crate::error::{Error, Result};
use crate::lifecycle::crash::hold_point;
use crate::lifecycle::log::LogWriter;
use crate::lifecycle::{self, Pinned, Tracked, relay};
use crate::pipe::Pipe;
use crate::spec::ContainerSpec;
use crate::state::Observed;
use crate::stdio::Stdio;

/// What the shim sends when the container's command has started.
const STARTED: &str = "started";

// ANCHOR: run_detached
/// Forks the shim that runs the container `tracked` records, and prints the id once it
/// is running. Returns the exit code for `vessel run -d` (0), or the shim's error. The
/// shim calls `after_exit` once the container has exited (`--rm` removes its layers).
pub fn run_detached(
    spec: ContainerSpec,
    tracked: Tracked,
    after_exit: impl FnOnce(),
) -> Result<i32> {
    let report = Pipe::new()?;
    // SAFETY: the CLI has started no thread, so the child is a complete copy of a
    // single-threaded process and may run any code, including the allocator.
    match unsafe { fork() } {
        Err(e) => Err(Error::Sys {
            call: "fork (the container's supervisor)",
            source: e.into(),
        }),
        Ok(ForkResult::Child) => {
            drop(report.read);
            let code = shim(tracked, &spec, report.write, after_exit);
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(report.write);
            let mut message = String::new();
            let _ = File::from(report.read).read_to_string(&mut message);
            if message == STARTED {
                println!("{}", tracked.id());
                tracked.hand_over();
                return Ok(0);
            }
            // The shim failed and is exiting (or was killed); reap it so no zombie is
            // left, then make sure nothing of the container is.
            let _ = nix::sys::wait::waitpid(child, None);
            abandon(tracked);
            let (code, text) = message
                .split_once('\n')
                .unwrap_or(("125", "the container's supervisor died before starting it"));
            Err(Error::Detached {
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
            .map_err(|source| Error::Sys {
                call: "open /dev/null",
                source,
            })?;
        // The shim's own stdio leaves the terminal (and any pipe) the CLI was started
        // from, so whoever reads the CLI's output sees its end when the CLI returns.
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors of this single-threaded shim;
            // `null` stays open for the duration of the call.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
        tracked.supervise_here()?;
        hold_point("shim-supervised");
        let log_path = tracked.dir().log_path(tracked.id());
        let log = LogWriter::create(&log_path).map_err(|source| Error::State {
            path: log_path,
            what: "create the log",
            source,
        })?;
        let (out, err) = (Pipe::new()?, Pipe::new()?);
        let running = Container::spawn_with_stdio(
            spec,
            Stdio {
                stdin: Some(null.as_fd()),
                stdout: Some(out.write.as_fd()),
                stderr: Some(err.write.as_fd()),
            },
        )?;
        // Only the container may hold the write ends now: when it is gone, the reads
        // see end-of-file.
        drop((out.write, err.write));
        // A `vessel rm -f` meanwhile removed the record: then `running` drops, which
        // kills the container.
        tracked.started(&running)?;
        Ok::<_, Error>((running, out.read, err.read, log))
    })();
    let (mut running, out, err, mut log) = match started {
        Ok(started) => started,
        Err(error) => {
            send(
                report,
                &format!("{}\n{}", error.exit_code(), super::error_chain(&error)),
            );
            return 1;
        }
    };
    send(report, STARTED);
    relay::relay(out, err, &running, &mut log);
    let status = running.wait();
    let oom_killed = running.oom_killed();
    after_exit();
    let _ = tracked.exited(status.ok(), oom_killed);
    0
}

/// After the shim died or failed before starting the container: kill the container if
/// it runs all the same (the shim was killed right after the start), and remove its
/// cgroups, log and record. Its layers are this process's to remove (it holds their
/// lock): `vessel run` does that as it returns.
fn abandon(tracked: Tracked) {
    let dir = tracked.dir().clone();
    let id = tracked.id().to_owned();
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
    if let Ok(Some(mut last)) = lifecycle::settle(&dir, &record) {
        last.layers_dir = None;
        let _ = lifecycle::clean_up(&dir, &last);
    }
}

fn send(report: OwnedFd, message: &str) {
    let _ = File::from(report).write_all(message.as_bytes());
}
