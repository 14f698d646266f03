//! Shared by the CLI tests: the `vessel` binary with its records in a run directory of
//! the test's own, and the detached `sleep` that tests of exec, kill and the like start
//! so that they have a running container to work on.

#![allow(dead_code)]

pub mod terminal;

use std::path::Path;
use std::process::{Command, Output};

use vessel::rootfs;
use vessel::state::{Record, StateDir};

/// The `vessel` binary, keeping its records in `run_dir` (so tests running at the same
/// time never see each other's containers). Add arguments, a uid, … and run it.
pub fn vessel_in(run_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vessel"));
    command.env("VESSEL_RUN_DIR", run_dir);
    command
}

/// `vessel ARGS` in `run_dir`, run to completion with its output captured.
pub fn vessel(run_dir: &Path, args: &[&str]) -> Output {
    vessel_in(run_dir).args(args).output().expect("run vessel")
}

/// `vessel run --rm OPTIONS -- COMMAND` in a run directory of its own, to completion.
pub fn run(options: &[&str], command: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<&str> = ["run", "--rm"]
        .iter()
        .chain(options)
        .chain(&["--"])
        .chain(command)
        .copied()
        .collect();
    vessel(dir.path(), &args)
}

/// Lossy UTF-8, for output in assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Starts `vessel run -d --rootfs DEFAULT <options> -- sleep 1000` with `command`
/// (from [`vessel_in`], as whichever user) and returns the new container's id. The
/// container runs until the test kills it.
pub fn start_sleeper(mut command: Command, options: &[&str]) -> String {
    let rootfs = rootfs::default_rootfs().expect("the default rootfs");
    let rootfs = rootfs.to_str().expect("a UTF-8 rootfs path");
    let started = command
        .args(["run", "-d", "--rootfs", rootfs])
        .args(options)
        .args(["--", "sleep", "1000"])
        .output()
        .expect("run vessel run -d");
    assert!(
        started.status.success(),
        "vessel run -d {options:?} -- sleep 1000: {}",
        text(&started.stderr)
    );
    text(&started.stdout).trim().to_owned()
}

/// Kills the container `id` with `command` (from [`vessel_in`]), waits until its shim
/// has recorded the exit (so the run directory can go away) and returns that record.
pub fn kill_and_wait(mut command: Command, run_dir: &Path, id: &str) -> Record {
    let store = StateDir::at(run_dir).expect("the run directory");
    let checked = id.parse().expect("a container id");
    let record = store.load(&checked).expect("the container's record");
    let killed = command
        .args(["kill", id])
        .output()
        .expect("run vessel kill");
    assert!(killed.status.success(), "{}", text(&killed.stderr));
    vessel::state::process::wait_until_gone(record.shim_pid).expect("wait for the shim");
    store
        .load(&checked)
        .expect("the container's record after its exit")
}
