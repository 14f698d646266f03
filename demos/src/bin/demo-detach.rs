//! # Lesson: a detached container, its shim, its log, `stop` and `rm`
//!
//! `vessel run -d` returns at once, yet the container goes on — so *some* process must stay
//! its parent: only a parent can `wait` for a child and learn how it ended. That process
//! is the **shim**. vessel makes it with a plain `fork` of the caller (no re-exec): the
//! shim starts the container as its own child, copies the container's stdout and
//! stderr into a log file (JSON lines, with the time each line was read), and when the
//! container exits, reaps it and writes its exit status into the container's record.
//!
//! The lesson detaches a container, looks at the shim and the container from the host
//! (a process tree read from `/proc`), reads the log, stops the container (SIGTERM,
//! which its shell traps), removes it, and checks that nothing of it is left: no
//! process, record, log, layer or cgroup.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vessel::ContainerSpec;
use vessel::cgroups::{CgroupSpec, Layout, Resources};
use vessel::image::{ContainerFs, Store};
use vessel::lifecycle::log::{LogLine, Stream};
use vessel::lifecycle::{self, EndedBy, Tracked};
use vessel::state::{ContainerId, Limits, Observed, Record, StateDir};
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-detach";
const ID: &str = "0000000000d1";

/// The container: says hello on stdout and stderr, then waits; on SIGTERM it says
/// goodbye and exits 0. (`wait` returns as soon as a trapped signal arrives.)
const SCRIPT: &str = "trap 'echo got SIGTERM, bye; exit 0' TERM; \
                      echo hello from the container; echo a warning >&2; \
                      sleep 1000 & wait $!";

fn main() {
    Lesson::run(
        NAME,
        "a detached container is the child of a shim that logs its output and records its exit",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("record the container, then fork the shim that starts it");
    let store = Store::open(scratch.join("store"))?;
    let base = store.image("base")?;
    let argv: Vec<String> = ["/bin/sh", "-c", SCRIPT].map(String::from).to_vec();
    let id: ContainerId = ID.parse()?;
    let layers = ContainerFs::create(&store, &id, &base, ID, &argv)?;
    let mut spec = ContainerSpec::new(layers.merged(), argv.clone())
        .overlay(layers.overlay())
        .hostname(ID);
    let cgroup = CgroupSpec::new(
        ID,
        Resources {
            memory_bytes: Some(64 << 20),
            ..Resources::default()
        },
    );
    let dir = StateDir::at(scratch.join("run"))?;
    let mut record = Record::new(id.clone(), Some("web".into()), argv, layers.merged());
    record.image = Some("base".into());
    record.limits = Limits::from(&cgroup.resources);
    record.cgroup_dirs = cgroup.dirs_in(&Layout::of_this_process()?);
    record.layers_dir = Some(layers.dir());
    record.log = Some(dir.log_path(&id));
    spec.cgroup = Some(cgroup);
    let tracked = Tracked::create(dir.clone(), record)?;
    lesson.syscall("fork() → the shim; in the shim: setsid(), clone3(…) → the container");
    let detached = lifecycle::run_detached(&spec, tracked, || {})?;
    // The shim holds the layers' "running" lock now; ours can go.
    drop(layers);
    let record = dir.find("web")?;
    lesson.see(
        "record",
        vessel::state::paths::record(dir.path(), &id).display(),
    );
    lesson.see("status", record.observed_status());
    lesson.claim(
        "run_detached returned while the container runs, and the record says so",
        record.observed() == Observed::Running,
    );

    lesson.step("the shim and the container, seen from the host");
    lesson.syscall("/proc/PID/task/TID/children, /proc/PID/stat, /proc/PID/status (NSpid)");
    let me = std::process::id() as libc::pid_t;
    for line in tree(me, 0) {
        lesson.note(&line);
    }
    let shim = detached.shim_pid;
    lesson.claim(
        "the shim is our child, and the container is the shim's child, not ours",
        children(me).contains(&shim)
            && children(shim).contains(&record.pid)
            && !children(me).contains(&record.pid),
    );
    lesson.claim(
        "the shim runs this very program: forked, not re-executed",
        std::fs::read_link(format!("/proc/{shim}/exe"))? == std::fs::read_link("/proc/self/exe")?,
    );
    lesson.claim(
        "the shim leads a session of its own (setsid), away from our terminal",
        stat_field(shim, 6) == Some(shim.to_string()),
    );
    lesson.claim(
        "inside its PID namespace the container's first process is PID 1",
        ns_pid(record.pid).as_deref() == Some("1"),
    );

    lesson.step("the log: what the shim read from the container's stdout and stderr");
    lesson.syscall("inotify_add_watch(log, IN_MODIFY); poll(inotify, shim pidfd)");
    let mut lines: Vec<LogLine> = Vec::new();
    lifecycle::logs(&dir, "web", None, true, |line| {
        lines.push(line.clone());
        Ok(if lines.len() == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    let raw = std::fs::read_to_string(dir.log_path(&id))?;
    lesson.see("first line of the file", raw.lines().next().unwrap_or(""));
    for line in &lines {
        lesson.see(&format!("{:?}", line.stream), line.log.trim_end());
    }
    lesson.claim(
        "each line is logged with its stream: stdout and stderr stay apart",
        matches!(
            lines.as_slice(),
            [a, b] if (a.stream, b.stream) == (Stream::Stdout, Stream::Stderr)
                && a.log == "hello from the container\n"
                && b.log == "a warning\n"
        ),
    );

    lesson.step("stop: SIGTERM, and SIGKILL only if it is still there after the timeout");
    lesson.syscall("pidfd_send_signal(container, SIGTERM); poll(pidfd, 10 s)");
    let stopped = lifecycle::stop(&dir, "web", Duration::from_secs(10))?;
    lesson.see("stop", stopped.ended_by);
    let record = dir.find("web")?;
    lesson.see("status", record.observed_status());
    let last = last_log_line(&dir)?;
    lesson.see("last log line", last.trim_end());
    lesson.claim(
        "the shell's trap ran: SIGTERM ended it, with exit code 0",
        stopped.ended_by == EndedBy::Sigterm && record.exit_code == Some(0),
    );
    lesson.syscall("waitpid(shim): it recorded the exit and ended; we are its parent");
    let shim_status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(shim), None)?;
    let shim_exited_0 = matches!(shim_status, nix::sys::wait::WaitStatus::Exited(_, 0));
    lesson.see(
        "shim",
        if shim_exited_0 {
            "exited with code 0".to_owned()
        } else {
            format!("{shim_status:?}")
        },
    );
    lesson.claim(
        "the shim exited 0 after writing the container's exit into the record",
        shim_exited_0 && last == "got SIGTERM, bye\n",
    );

    lesson.step("rm: the record, the log, the layers and the cgroup go");
    let cgroups = record.cgroup_dirs.clone();
    lifecycle::remove(&dir, "web", false)?;
    let left = leftovers(&dir, &store, &cgroups);
    lesson.see(
        "left behind",
        if left.is_empty() {
            "nothing".to_owned()
        } else {
            left.join(", ")
        },
    );
    lesson.claim(
        "no record, log, layers, cgroup or process of the container is left",
        left.is_empty() && children(me).is_empty(),
    );
    Ok(())
}

/// The process tree from `pid` down to the container, one line per process, indented
/// by depth.
fn tree(pid: libc::pid_t, depth: usize) -> Vec<String> {
    let name = stat_field(pid, 2).unwrap_or_default();
    let role = match depth {
        0 => "this lesson",
        1 => "the shim",
        _ => "the container's first process",
    };
    let inner = ns_pid(pid)
        .filter(|_| depth >= 2)
        .map(|n| format!(", pid {n} inside"))
        .unwrap_or_default();
    let mut lines = vec![format!(
        "{}{name} (host pid {pid}{inner}) — {role}",
        "   ".repeat(depth)
    )];
    // Below PID 1 are the container's own processes, coming and going as its script
    // runs: the tree stops at the container's first process.
    if depth < 2 {
        for child in children(pid) {
            lines.extend(tree(child, depth + 1));
        }
    }
    lines
}

/// The children of every thread of `pid`.
fn children(pid: libc::pid_t) -> BTreeSet<libc::pid_t> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Field `n` (1-based) of `/proc/PID/stat`; field 2, the name, without its parentheses.
fn stat_field(pid: libc::pid_t, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    match n {
        1 => Some(stat[..open].trim().to_owned()),
        2 => Some(stat[open + 1..close].to_owned()),
        _ => stat[close + 1..]
            .split_whitespace()
            .nth(n - 3)
            .map(str::to_owned),
    }
}

/// The pid in the innermost PID namespace (the last number of `NSpid:`).
fn ns_pid(pid: libc::pid_t) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().last().map(str::to_owned)
}

fn last_log_line(dir: &StateDir) -> Result<String, vessel::Error> {
    let mut last = String::new();
    lifecycle::logs(dir, "web", Some(1), false, |line| {
        last = line.log.clone();
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(last)
}

/// What of container `ID` still exists: files in the run dir, its layers, its cgroups.
fn leftovers(dir: &StateDir, store: &Store, cgroups: &[PathBuf]) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(ID))
        .collect();
    let layers = store.container_dir(&ID.parse().expect("a valid id"));
    let layers = layers.dir();
    if layers.exists() {
        left.push(layers.display().to_string());
    }
    left.extend(
        cgroups
            .iter()
            .filter(|c| c.exists())
            .map(|c| c.display().to_string()),
    );
    left
}
