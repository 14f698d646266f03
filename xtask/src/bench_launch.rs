//! How one `bench-peers` contender starts its container once: a single command (a
//! runtime's `run`, a floor, `podman --runtime X run`), or vessel's OCI split as a
//! client drives it: `create`, `start`, wait for the init to exit, and `delete` either
//! timed with them (the whole lifecycle, which compares with `vessel run --bundle`: that
//! also waits and cleans up) or after the clock stops (`create` and `start` alone, what
//! issue 15 compares with `run --bundle`), or `create` followed by the least any `start`
//! can be: a shell that writes the byte to the init's exec fifo (no vessel process), the
//! floor that shows what `vessel start`'s own process costs.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peak_rss::PeakRss;
use crate::wait::{self, Outcome};

/// What a contender runs for one start, `{id}` standing for the container's id.
pub enum Launch {
    /// One command.
    Argv(Vec<String>),
    /// One command that a harness builds (podman with its own state and config).
    Built(Box<dyn Fn(&str) -> Command>),
    /// `vessel --root ROOT create --bundle BUNDLE --pid-file …`, `start`, wait, `delete`.
    CreateStart {
        /// The vessel binary.
        vessel: PathBuf,
        /// Its `--root`.
        root: PathBuf,
        /// The bundle.
        bundle: PathBuf,
        /// What is timed after `create`.
        split: Split,
    },
}

/// What a [`Launch::CreateStart`] times after `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// `start` and the wait for the init (the contender's cleanup deletes).
    Start,
    /// `start`, the wait, and `delete`.
    StartAndDelete,
    /// In place of `vessel start`, `sh` opens the exec fifo and writes the byte, as
    /// `start` does, and the wait (the contender's cleanup deletes).
    FloorStart,
}

impl Launch {
    /// Runs once for container `id`, at most `timeout` per command; with `rss`, each
    /// command under GNU time (see [`PeakRss`]).
    pub fn run(
        &self,
        id: &str,
        timeout: Duration,
        rss: Option<&PeakRss>,
    ) -> Result<Outcome, String> {
        let wrap = |command: Command| match rss {
            Some(rss) => rss.wrap(&command),
            None => command,
        };
        match self {
            Launch::Argv(argv) => {
                let args: Vec<String> = argv.iter().map(|a| a.replace("{id}", id)).collect();
                let mut command = Command::new(&args[0]);
                command.args(&args[1..]);
                one(wrap(command), timeout)
            }
            Launch::Built(build) => one(wrap(build(id)), timeout),
            Launch::CreateStart {
                vessel,
                root,
                bundle,
                split,
            } => {
                let started = Instant::now();
                let vessel_cmd = |args: &[&str]| {
                    let mut command = Command::new(vessel);
                    command.arg("--root").arg(root).args(args);
                    command
                };
                let pid_file = root.join(format!("{id}.pid"));
                let bundle = bundle.display().to_string();
                let pid_path = pid_file.display().to_string();
                let create = ["create", "--bundle", &bundle, "--pid-file", &pid_path, id];
                // The created init keeps create's stdio: a stderr pipe would never reach
                // end of file while it waits, so create's messages go to a file.
                let messages = root.join(format!("{id}.err"));
                let file = std::fs::File::create(&messages)
                    .map_err(|e| format!("create {}: {e}", messages.display()))?;
                let mut create = wrap(vessel_cmd(&create));
                create
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(file);
                let created = create
                    .spawn()
                    .map_err(|e| e.to_string())
                    .and_then(|child| wait::with_timeout(child, timeout))?;
                let said = std::fs::read_to_string(&messages).unwrap_or_default();
                let _ = std::fs::remove_file(&messages);
                match created {
                    Outcome::Exited(status, _) if status.success() => {}
                    Outcome::Exited(status, _) => return Ok(Outcome::Exited(status, said)),
                    Outcome::Hung => return Ok(Outcome::Hung),
                }
                let start = match split {
                    Split::FloorStart => floor_start(&root.join("oci").join(id)),
                    Split::Start | Split::StartAndDelete => vessel_cmd(&["start", id]),
                };
                let started_ok = match one(wrap(start), timeout)? {
                    Outcome::Exited(status, said) if status.success() => {
                        Outcome::Exited(status, said)
                    }
                    other => return Ok(other),
                };
                let pid: libc::pid_t = std::fs::read_to_string(&pid_file)
                    .map_err(|e| format!("read {}: {e}", pid_file.display()))?
                    .trim()
                    .parse()
                    .map_err(|e| format!("{}: {e}", pid_file.display()))?;
                let _ = std::fs::remove_file(&pid_file);
                let left = timeout.saturating_sub(started.elapsed());
                let gone = vessel::state::process::wait_until_gone_within(pid, Some(left))
                    .map_err(|e| format!("wait for the init {pid}: {e}"))?;
                if !gone {
                    let _ = vessel_cmd(&["delete", "--force", id]).output();
                    return Ok(Outcome::Hung);
                }
                if *split != Split::StartAndDelete {
                    return Ok(started_ok);
                }
                one(wrap(vessel_cmd(&["delete", id])), timeout)
            }
        }
    }
}

/// The least a `start` can do, without a vessel process: open the waiting init's exec
/// fifo in `state_dir` (`vessel create` keeps it there) and write the byte, with the
/// shell's builtins only (no `rm`: a second process; the cleanup's `delete` removes
/// the fifo with the rest).
fn floor_start(state_dir: &std::path::Path) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"exec 3>"$1" && printf '\000' >&3"#, "sh"])
        .arg(state_dir.join("exec.fifo"));
    command
}

/// Runs `command` (stdio closed, stderr kept) at most `timeout`.
fn one(mut command: Command, timeout: Duration) -> Result<Outcome, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
        .and_then(|child| wait::with_timeout(child, timeout))
}
