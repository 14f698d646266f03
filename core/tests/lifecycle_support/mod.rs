//! Shared by the lifecycle tests: the `vessel` CLI in a run directory of the test's own,
//! crash points to stop it at, and the check that a container left nothing behind.

#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use vessel::cgroups::{DEFAULT_PARENT, Layout};
use vessel::state::StateDir;
use vessel::sys::crash::HOLD_ENV;
use vessel::test_support::{BOUND, BoundedLines};

/// The `vessel` binary with its records in a temporary run directory (the default
/// image store, whose base image is already built, holds the layers).
pub struct Vessel {
    run: tempfile::TempDir,
}

impl Vessel {
    pub fn new() -> Vessel {
        Vessel {
            run: tempfile::tempdir().expect("a temporary run directory"),
        }
    }

    pub fn run_dir(&self) -> PathBuf {
        self.run.path().to_path_buf()
    }

    pub fn state(&self) -> StateDir {
        StateDir::at(self.run.path()).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vessel"));
        command
            .args(args)
            .env("VESSEL_RUN_DIR", self.run.path())
            .env_remove("VESSEL_ROOT")
            .env_remove(HOLD_ENV)
            .stdin(Stdio::null());
        command
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run vessel")
    }

    /// Runs vessel, asserts it succeeded, returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "vessel {args:?} failed ({}): {}",
            out.status,
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs vessel, asserts it failed with code 125, returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert_eq!(
            out.status.code(),
            Some(125),
            "vessel {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    /// Starts vessel with the crash point `point` armed and returns once some process
    /// of it (the CLI, or the shim it forked) holds there, with that process's pid.
    pub fn hold(&self, point: &str, args: &[&str]) -> (Child, libc::pid_t) {
        let (read, write) = nix::unistd::pipe().expect("pipe");
        let child = self
            .command(args)
            .env(HOLD_ENV, format!("{point}:{}", write.as_raw_fd()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vessel");
        drop(write);
        let line = BoundedLines::new(read, BOUND)
            .next_line()
            .unwrap_or_else(|e| panic!("vessel {args:?} never reached {point}: {e}"))
            .unwrap_or_default();
        let pid = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("vessel {args:?} never reached {point}"));
        (child, pid)
    }

    /// Reads the container's log with `logs -f` until its first line, then stops
    /// following: a way to know the container has started writing, without a sleep.
    pub fn first_log_line(&self, container: &str) -> String {
        let mut follower = self
            .command(&["logs", "-f", container])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let line = BoundedLines::new(follower.stdout.take().unwrap(), BOUND).next_line();
        // Killed first, so this wait ends whatever the read gave.
        let _ = follower.kill();
        let _ = follower.wait();
        // With its newline, as read_line gave it.
        line.expect("a log line within the bound")
            .map(|line| line + "\n")
            .unwrap_or_default()
    }

    /// Asserts that nothing of container `id` is left: no record, log or temporary
    /// file, no layers, no cgroup directory, no mount.
    pub fn assert_gone(&self, id: &str) {
        let left: Vec<String> = std::fs::read_dir(self.run.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(id))
            .collect();
        assert!(left.is_empty(), "{id} left files in the run dir: {left:?}");
        let layers =
            vessel::state::paths::layers(&vessel::rootfs::state_root(), &id.parse().unwrap());
        let layers = layers.dir();
        assert!(
            !layers.exists(),
            "{id} left its layers: {}",
            layers.display()
        );
        for dir in cgroup_dirs(id) {
            assert!(!dir.exists(), "{id} left its cgroup {}", dir.display());
        }
        let mounts: Vec<String> = vessel::test_support::host_mounts()
            .into_iter()
            .filter(|line| line.contains(id))
            .collect();
        assert!(mounts.is_empty(), "{id} left mounts: {mounts:?}");
    }

    /// The run directory holds nothing but its lock.
    pub fn assert_empty(&self) {
        let left: Vec<String> = std::fs::read_dir(self.run.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != ".lock")
            .collect();
        assert!(left.is_empty(), "the run dir still holds {left:?}");
    }
}

/// A test that failed half-way still leaves nothing running: every container recorded
/// in its run directory is removed, by force.
impl Drop for Vessel {
    fn drop(&mut self) {
        let state = self.state();
        for record in state.list().unwrap_or_default() {
            let _ = vessel::lifecycle::remove(&state, &record.id, true);
        }
    }
}

/// Where container `id`'s cgroup directories could be: vessel's default place in every
/// hierarchy (a container gets only those it uses), the unified one of a hybrid host too.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let own = |layout: Layout| match layout {
        Layout::V1(hierarchies) => hierarchies.into_iter().map(|h| h.own).collect(),
        Layout::V2 { own, .. } => vec![own],
    };
    let mut dirs: Vec<PathBuf> = own(Layout::of_this_process().expect("our cgroup layout"));
    dirs.extend(Layout::for_container(false).map(own).unwrap_or_default());
    dirs.dedup();
    dirs.into_iter()
        .map(|own| own.join(DEFAULT_PARENT).join(id))
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Blocks until process `pid` is gone (a pidfd wait).
pub fn wait_gone(pid: libc::pid_t) {
    vessel::state::process::wait_until_gone(pid).expect("wait on a pidfd");
}

/// Live processes (not zombies) whose command line is exactly `argv`: how a test finds a
/// container that vessel may have lost track of, without trusting vessel's records.
pub fn live_processes(argv: &[&str]) -> Vec<libc::pid_t> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| vessel::state::process::parse_state(&stat))
                .is_some_and(|state| !matches!(state, 'Z' | 'X'));
            alive && std::fs::read(format!("/proc/{pid}/cmdline")).ok() == Some(wanted.clone())
        })
        .collect()
}

/// A `sleep` no other test runs (`test` tells this file's tests apart), so that its
/// process can be found by its command line. Its argv, as `run` and `live_processes`
/// take it (the few bytes of the duration are leaked to live as long as the test).
pub fn unique_sleep(test: u32) -> [&'static str; 2] {
    let seconds = format!("{}{test}", 900_000 + std::process::id());
    ["sleep", seconds.leak()]
}
