//! `vessel run -d`: start a container that outlives the command that started it.
//!
//! The CLI is single-threaded here, so it may `fork` an ordinary Rust process: the
//! *shim*. The shim starts the container (it is the container's parent), records it,
//! tells the CLI "started" or why not over a pipe, and then waits for the container and
//! records its exit. The CLI prints the id and returns at once; the shim lives on,
//! detached from the terminal (`setsid`), with its stdio on `/dev/null`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::unistd::{ForkResult, fork};

use crate::container::Container;
use crate::error::{Error, Result};
use crate::pipe::Pipe;
use crate::spec::ContainerSpec;
use crate::state::{Record, StateDir, Status, now_rfc3339, process};
use crate::stdio::Stdio;

/// What the shim sends when the container's command has started.
const STARTED: &str = "started";

// ANCHOR: run_detached
/// Records the container, forks the shim that runs it, and prints its id once it is
/// running. Returns the exit code for `vessel run -d` (0), or the shim's error. The shim
/// calls `after_exit` once the container has exited (`--rm` removes its layers there).
pub fn run_detached(
    spec: ContainerSpec,
    id: String,
    name: Option<String>,
    after_exit: impl FnOnce(),
) -> Result<i32> {
    let store = StateDir::open()?;
    let record = Record::new(id.clone(), name, spec.argv.clone(), spec.rootfs.clone());
    store.create(&record)?;
    let report = Pipe::new()?;
    // SAFETY: the CLI has started no thread, so the child is a complete copy of a
    // single-threaded process and may run any code, including the allocator.
    match unsafe { fork() } {
        Err(e) => {
            store.remove(&id)?;
            Err(Error::Sys {
                call: "fork (the container's supervisor)",
                source: e.into(),
            })
        }
        Ok(ForkResult::Child) => {
            drop(report.read);
            let code = shim(&store, record, &spec, report.write);
            after_exit();
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(report.write);
            let mut message = String::new();
            let _ = File::from(report.read).read_to_string(&mut message);
            if message == STARTED {
                println!("{id}");
                return Ok(0);
            }
            // The shim failed and is exiting; reap it so no zombie is left.
            let _ = nix::sys::wait::waitpid(child, None);
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
fn shim(store: &StateDir, mut record: Record, spec: &ContainerSpec, report: OwnedFd) -> i32 {
    // A session of its own: no terminal, so no SIGHUP or Ctrl-C reaches it.
    let _ = nix::unistd::setsid();
    let null = OpenOptions::new().read(true).write(true).open("/dev/null");
    if let Ok(null) = &null {
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors of this single-threaded shim;
            // `null` stays open for the duration of the call.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    let stdio = null.as_ref().ok().map(|n| Stdio {
        stdin: Some(n.as_fd()),
        stdout: Some(n.as_fd()),
        stderr: Some(n.as_fd()),
    });
    let mut running = match Container::spawn_with_stdio(spec, stdio.unwrap_or_default()) {
        Ok(running) => running,
        Err(error) => {
            let _ = store.remove(&record.id);
            send(
                report,
                &format!("{}\n{}", error.exit_code(), super::error_chain(&error)),
            );
            return 1;
        }
    };
    record.pid = running.pid();
    // The container is our unreaped child: even if it already exited, its stat is there.
    record.pid_start_time = process::start_time(record.pid).unwrap_or(0);
    record.shim_pid = std::process::id() as libc::pid_t;
    record.status = Status::Running;
    record.started = Some(now_rfc3339());
    if let Err(error) = store.save(&record) {
        drop(running);
        let _ = store.remove(&record.id);
        send(report, &format!("125\n{}", super::error_chain(&error)));
        return 1;
    }
    send(report, STARTED);
    let status = running.wait();
    let _ = store.update(&record.id, |r| {
        r.status = Status::Exited;
        r.exit_code = status.as_ref().ok().map(|s| s.code());
        r.finished = Some(now_rfc3339());
    });
    0
}

fn send(report: OwnedFd, message: &str) {
    let _ = File::from(report).write_all(message.as_bytes());
}
