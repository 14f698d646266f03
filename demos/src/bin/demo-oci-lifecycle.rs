//! # Lesson: the OCI lifecycle — create, start, kill, delete
//!
//! podman, containerd and dockerd do not run containers themselves: they write a
//! *bundle* (a `config.json` and a root filesystem) and call a runtime — runc, or vessel
//! — with the runtime spec's verbs. The split that matters is **create** and **start**:
//! `create` does all the work (namespaces, mounts, cgroup, capabilities, seccomp) and
//! leaves the container's first process *waiting* just before `execve`; `start` only
//! lets it go. In between, the client can put the container on a network, run hooks,
//! attach a terminal — and no runtime process needs to stay: the state lives in files
//! and in the kernel.
//!
//! vessel's init waits by reading one byte from a named pipe, `exec.fifo`; `start` is
//! writing that byte. The lesson goes create → state → start → kill → delete with the
//! library calls `vessel create/start/kill/delete` make, reading the state back after
//! each step from the kernel (is the pid alive? is the fifo still there?).

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use vessel::oci::state::{self as oci_state, OciStatus, OciStore};
use vessel::process::container::StartGate;
use vessel::state::{ContainerId, OciSection};
use vessel::{Container, Stdio};
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-oci-lifecycle";
const ID: &str = "lesson";

fn main() {
    Lesson::run(
        NAME,
        "create leaves the init waiting before execve; start is one byte into exec.fifo",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("a bundle: config.json and a root filesystem, as podman writes one");
    let bundle = scratch.join("bundle");
    std::fs::create_dir_all(&bundle)?;
    let rootfs = vessel::rootfs::default_rootfs()?;
    std::fs::write(bundle.join("config.json"), config(&rootfs))?;
    lesson.see(
        "process.args",
        r#"["/bin/sh", "-c", "echo hello from $(hostname); exec sleep 1000"]"#,
    );
    let loaded = vessel::oci::Bundle::load(&bundle, ID)?;

    // ANCHOR: create
    lesson.step("create: every step but execve, then the init waits on exec.fifo");
    let store = OciStore::at(scratch.join("oci"));
    let id: ContainerId = ID.parse()?;
    let state_dir = store.reserve(&id)?;
    lesson.syscall(
        "mkfifo(exec.fifo); open(exec.fifo, O_RDWR); clone3(…); the plan's steps; read(fifo)",
    );
    let fifo: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(vessel::state::paths::exec_fifo(&state_dir))?
        .into();
    let out_path = scratch.join("container.out");
    let out = std::fs::File::create(&out_path)?;
    let stdio = Stdio {
        stdout: Some(out.as_fd()),
        ..Stdio::default()
    };
    let gate = StartGate::new(fifo.as_fd());
    let running = Container::create(&loaded.spec, stdio, gate, |_| Ok::<(), vessel::Error>(()))?;
    drop(fifo);
    let (pid, cgroup_dirs) = running.detach();
    let section = OciSection {
        bundle: bundle.clone(),
        annotations: Default::default(),
    };
    let started = vessel::state::process::start_time(pid).unwrap_or(0);
    let record = oci_state::created(
        id.clone(),
        section,
        rootfs.clone(),
        loaded.spec.argv.clone(),
        (pid, started),
        cgroup_dirs,
    );
    store.save(&record)?;
    // ANCHOR_END: create
    lesson.see("state", store.status(&record));
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    lesson.claim(
        "state says created",
        store.status(&record) == OciStatus::Created,
    );
    lesson.claim(
        "the init sleeps in the kernel's pipe read (/proc/PID/wchan; a fifo is a pipe)",
        wchan.ends_with("pipe_read"),
    );
    lesson.claim(
        "the command has not run: nothing written yet",
        std::fs::read(&out_path)?.is_empty(),
    );
    let ours = std::fs::read_link("/proc/self/ns/mnt")?;
    lesson.claim(
        "its namespaces exist already (another mount namespace than ours)",
        std::fs::read_link(format!("/proc/{pid}/ns/mnt"))? != ours,
    );
    lesson.claim(
        "its hardening is in force already (NoNewPrivs: 1)",
        status_field(pid, "NoNewPrivs") == "1",
    );

    // ANCHOR: start
    lesson.step("start: one byte into exec.fifo");
    lesson.syscall("open(exec.fifo, O_WRONLY|O_NONBLOCK); unlink(exec.fifo); write(fifo, 1 byte)");
    let fifo_path = store.fifo(&id);
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo_path)?;
    std::fs::remove_file(&fifo_path)?;
    writer.write_all(&[0])?;
    // ANCHOR_END: start
    let said = wait_for(|| {
        std::fs::read_to_string(&out_path)
            .ok()
            .filter(|s| !s.is_empty())
    });
    lesson.see(
        "the container said",
        said.as_deref().unwrap_or("").trim_end(),
    );
    lesson.see("state", store.status(&record));
    lesson.claim(
        "state says running",
        store.status(&record) == OciStatus::Running,
    );
    lesson.claim(
        "the command ran, as the config's hostname",
        said.as_deref() == Some("hello from lesson\n"),
    );

    lesson.step("kill: a signal to the init (pidfd, checked against its start time)");
    lesson.syscall("pidfd_open(pid); pidfd_send_signal(pidfd, SIGKILL)");
    let pinned = vessel::lifecycle::Pinned::open(record.pid, record.pid_start_time)
        .ok_or("the init is gone")?;
    pinned.signal(libc::SIGKILL)?;
    pinned.wait_exit(Some(Duration::from_secs(10)))?;
    lesson.see("state", store.status(&record));
    lesson.claim(
        "state says stopped",
        store.status(&record) == OciStatus::Stopped,
    );
    // Here the lesson itself is the init's parent (its subreaper would be, for podman or
    // containerd's shim): it reaps the init and reads how it ended.
    let mut raw = 0;
    // SAFETY: `raw` is a live int; `pid` is our own unreaped child.
    unsafe { libc::waitpid(pid, &mut raw, 0) };
    let ended = vessel::ExitStatus::from_wait_status(raw);
    lesson.see("the parent's waitpid says", ended);
    lesson.claim("it died of SIGKILL (exit code 137)", ended.code() == 137);

    lesson.step("delete: remove its cgroup and its state");
    lesson.syscall("rmdir(cgroup dirs); rm -r ROOT/oci/lesson");
    for dir in &record.cgroup_dirs {
        std::fs::remove_dir(dir)?;
    }
    store.remove(&id)?;
    lesson.claim("no state is left", !store.exists(&id));
    lesson.claim(
        "no cgroup is left",
        record.cgroup_dirs.iter().all(|d| !d.exists()),
    );
    Ok(())
}

/// A config.json for the default rootfs, hardened as `vessel spec` writes one.
fn config(rootfs: &Path) -> String {
    format!(
        r#"{{"ociVersion": "1.0.2",
  "root": {{"path": {rootfs:?}, "readonly": true}},
  "hostname": "lesson",
  "process": {{"args": ["/bin/sh", "-c", "echo hello from $(hostname); exec sleep 1000"],
    "cwd": "/", "env": ["PATH=/bin:/usr/bin"], "user": {{"uid": 0, "gid": 0}},
    "noNewPrivileges": true}},
  "mounts": [{{"destination": "/proc", "type": "proc", "source": "proc"}}],
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "uts"}},
    {{"type": "ipc"}}, {{"type": "network"}}],
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}}]}}}}}}"#
    )
}

fn status_field(pid: libc::pid_t, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Polls `probe` every 10 ms for at most 10 s (the container's output arrives a moment
/// after start).
fn wait_for<T>(probe: impl Fn() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
