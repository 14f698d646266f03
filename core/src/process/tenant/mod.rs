//! Joining a running container: the "tenant" side of the process model, which is what
//! `docker exec` does.
//!
//! A container is nothing but processes that share namespaces, a root and a cgroup, so a
//! second process becomes part of it by joining the same ones: `setns(2)` on each
//! `/proc/PID/ns/*` file of the container's first process. Where the [`Container`]
//! builder *creates* namespaces with `clone3`, [`Tenant`] *joins* existing ones:
//!
//! 1. the parent opens every namespace file that differs from its own, the container's
//!    root (`/proc/PID/root`) and finds its cgroup, then checks the pid is still the
//!    same process (start time), so a recycled pid is never joined;
//! 2. a child joins the cgroup, the namespaces (user first) and the root, then forks
//!    with `CLONE_PARENT`: the PID namespace only applies to children;
//! 3. that grandchild, a direct child of ours, runs the command.
//!
//! With a terminal ([`Tenant::spawn_with_terminal`], `vessel exec -t`) the grandchild
//! opens a pty on the container's own devpts, the same step as `vessel run -t` (see
//! [`crate::tty::console`]), and sends the master back to us. Why there, and not vessel
//! opening `/proc/PID/root/dev/pts/ptmx` before joining? Two reasons:
//!
//! - a new pty's slave belongs to whoever opened the master. Opened by vessel it would be
//!   the host's root, which a container with a user namespace sees as `nobody`: the
//!   command could not reopen its own `/dev/pts/N`. Opened after `setns` into the user
//!   namespace and `setresuid(0)`, it belongs to the container's root, as under `run -t`;
//! - a path walked through `/proc/PID/root` follows the container's symlinks, but an
//!   absolute one is resolved from *vessel's* root: a container that made `/dev/pts` a
//!   link to `/dev` would have the host's root open the host's `ptmx`. After `chroot`
//!   into the container the whole path is resolved inside it.
//!
//! [`Container`]: crate::process::container::Container

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use crate::namespaces::Namespace;
use crate::process::child;
use crate::process::clone::{Cloned, clone3};
use crate::process::container::{Running, failure_to_error};
use crate::process::error::Result;
use crate::process::error::{JoinedFile, ProcessError, ProcessStep, Refusal};
use crate::process::pipe::{self, ChildEnds, Pipe, Report};
use crate::process::plan::{JoinTarget, plan_tenant};
use crate::process::spec::ContainerSpec;
use crate::process::stdio::Stdio;
use crate::security::ProcessSecurity;
use crate::state::process;
use crate::tty::{ConsoleSocket, TerminalRequest};

/// A running container to start more processes in, named by its first process.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    pid: libc::pid_t,
    start_time: u64,
}

/// Descriptors opened from `/proc/PID`, closed when dropped.
struct Opened {
    namespaces: Vec<(Namespace, OwnedFd)>,
    root: OwnedFd,
    cgroup_procs: Vec<CString>,
    setgroups_allowed: bool,
    capabilities: crate::security::capabilities::Capabilities,
    /// `Seccomp:` and `NoNewPrivs:` of the container's first process.
    confinement: Confinement,
}

/// How the container's first process is confined, as `/proc/PID/status` shows it.
#[derive(Debug, Clone, Copy)]
struct Confinement {
    seccomp_filter: bool,
    no_new_privileges: bool,
}

impl Confinement {
    fn of_process(pid: libc::pid_t) -> std::io::Result<Confinement> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or("0")
                .to_owned()
        };
        Ok(Confinement {
            seccomp_filter: field("Seccomp:") == "2",
            no_new_privileges: field("NoNewPrivs:") == "1",
        })
    }

    // ANCHOR: exec_confinement
    /// The spec's hardening for a command joining this container: a container started
    /// without a filter (`--privileged`, `seccomp=unconfined`) gives its commands none
    /// either, and one with `no_new_privs` gives it to all of them, as `docker exec`.
    fn apply(self, mut security: ProcessSecurity) -> ProcessSecurity {
        if !self.seccomp_filter {
            security.seccomp = crate::security::Seccomp::Unconfined;
        }
        security.no_new_privileges |= self.no_new_privileges;
        security
    }
    // ANCHOR_END: exec_confinement
}

impl Tenant {
    /// The container whose first process is `pid` and started at `start_time` (field 22
    /// of `/proc/PID/stat`, as recorded when it started).
    pub fn new(pid: libc::pid_t, start_time: u64) -> Tenant {
        Tenant { pid, start_time }
    }

    /// The container whose first process is `pid` now.
    pub fn of_pid(pid: libc::pid_t) -> Result<Tenant> {
        let start_time = process::start_time(pid).ok_or_else(|| ProcessError::NotRunning {
            id: format!("with pid {pid}"),
            status: "no such process".to_owned(),
        })?;
        Ok(Tenant::new(pid, start_time))
    }

    /// The namespaces this container's first process is in that differ from ours: the
    /// ones `exec` will join.
    pub fn namespaces_to_join(&self) -> Result<Vec<Namespace>> {
        Ok(Namespace::ALL
            .into_iter()
            .filter(|ns| differs(self.pid, *ns))
            .collect())
    }

    /// Runs `spec`'s command (with its env and working directory; its rootfs and
    /// namespaces are ignored) inside the container, with stdio inherited.
    pub fn spawn(&self, spec: &ContainerSpec) -> Result<Running> {
        self.spawn_with_stdio(spec, Stdio::default())
    }

    /// Like [`Tenant::spawn`], with the command's stdin, stdout and stderr chosen by the
    /// caller. A `spec.terminal` (an OCI `exec --console-socket`) gives the command a pty
    /// of its own whose master goes to that socket.
    pub fn spawn_with_stdio(&self, spec: &ContainerSpec, stdio: Stdio<'_>) -> Result<Running> {
        self.join(spec, stdio, spec.terminal)
    }

    // ANCHOR: tenant_terminal
    /// Like [`Tenant::spawn`], with a terminal of the command's own: a new pty on the
    /// container's devpts, of `size` (rows, columns), as its stdin, stdout, stderr and
    /// controlling terminal. Returns the command and the pty's master, to relay to.
    pub fn spawn_with_terminal(
        &self,
        spec: &ContainerSpec,
        size: (u16, u16),
    ) -> Result<(Running, OwnedFd)> {
        let socket = ConsoleSocket::new()?;
        let command = self.join(spec, Stdio::default(), Some(socket.request(size)))?;
        // The step that sends the master ran before execve: the message is waiting. If
        // it is not, `command` is dropped, which kills and reaps it.
        let master = socket.receive_master()?;
        Ok((command, master))
    }
    // ANCHOR_END: tenant_terminal

    // ANCHOR: tenant_spawn
    /// Joins the container and starts `spec`'s command there, with `stdio`, and with a
    /// terminal of its own if `terminal` asks for one.
    fn join(
        &self,
        spec: &ContainerSpec,
        stdio: Stdio<'_>,
        terminal: Option<TerminalRequest>,
    ) -> Result<Running> {
        let opened = self.open()?;
        let pid_pipe = Pipe::new()?;
        let target = JoinTarget {
            namespaces: opened
                .namespaces
                .iter()
                .map(|(ns, fd)| (*ns, fd.as_raw_fd()))
                .collect(),
            root: opened.root.as_raw_fd(),
            cgroup_procs: opened.cgroup_procs.clone(),
            setgroups_allowed: opened.setgroups_allowed,
            terminal,
            capabilities: Some(opened.capabilities),
            security: opened.confinement.apply(spec.process_security.clone()),
        };
        let mut plan = plan_tenant(&target, spec, pid_pipe.write.as_raw_fd())?;
        plan.steps.splice(0..0, stdio.steps());
        let go = Pipe::new()?;
        let report = Pipe::new()?;
        let child_ends = ChildEnds::of(&go, &report);
        // SAFETY: in the child we call only `child::run`, which makes async-signal-safe
        // system calls on memory prepared above and ends in `execve` or `_exit`.
        let cloned = unsafe { clone3(0) }.map_err(ProcessError::io(ProcessStep::CloneJoiner))?;
        let (joiner, joiner_fd) = match cloned {
            Cloned::Child => child::run(&plan, child_ends),
            Cloned::Parent { pid, pidfd } => (pid, pidfd),
        };
        drop(go.read);
        drop(report.write);
        drop(pid_pipe.write);
        // The joiner is ours; owning it as a `Running` reaps it on every path.
        let mut joiner = Running::adopt(joiner, joiner_fd);
        pipe::send_go(go.write)?;
        let command_pid = read_pid(pid_pipe.read)?;
        let report = pipe::read_report(report.read)?;
        joiner.wait()?;
        drop(opened);
        let mut command = match command_pid {
            Some(pid) => {
                // `pid` is our unreaped child, so the pidfd cannot name another process.
                let pidfd = crate::sys::pidfd::open(pid)
                    .map_err(ProcessError::io(ProcessStep::PidfdJoined))?;
                Some(Running::adopt(pid, pidfd))
            }
            None => None,
        };
        match (report, command.take()) {
            (Report::Started, Some(command)) => Ok(command),
            (Report::Failed(failure), command) => {
                if let Some(mut command) = command {
                    command.wait()?;
                }
                Err(failure_to_error(&plan, failure))
            }
            (_, _) => Err(ProcessError::refused(
                ProcessStep::Join,
                Refusal::NoJoinReport,
            )),
        }
    }
    // ANCHOR_END: tenant_spawn

    fn open(&self) -> Result<Opened> {
        let proc_dir = format!("/proc/{}", self.pid);
        let open = |path: String, flags: libc::c_int| -> Result<OwnedFd> {
            let c = CString::new(path.clone()).map_err(|_| ProcessError::NulByte {
                what: "path",
                value: path.clone(),
            })?;
            // SAFETY: `c` is a NUL-terminated path that outlives the call.
            let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
            if fd == -1 {
                return Err(self.gone_or(ProcessError::Join {
                    what: JoinedFile::File(path),
                    source: std::io::Error::last_os_error(),
                }));
            }
            // SAFETY: open just returned this descriptor and nothing else owns it.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let mut namespaces = Vec::new();
        for ns in self.namespaces_to_join()? {
            namespaces.push((ns, open(format!("{proc_dir}/ns/{ns}"), libc::O_RDONLY)?));
        }
        let root = open(
            format!("{proc_dir}/root"),
            libc::O_RDONLY | libc::O_DIRECTORY,
        )?;
        let setgroups_allowed = std::fs::read_to_string(format!("{proc_dir}/setgroups"))
            .map(|s| s.trim() == "allow")
            .unwrap_or(true);
        let cgroup_procs = crate::cgroups::procs_files_to_join(self.pid)?;
        let capabilities =
            crate::security::capabilities::of_process(self.pid).map_err(|source| {
                let proc_dir = proc_dir.clone();
                let what = JoinedFile::Capabilities { proc_dir };
                self.gone_or(ProcessError::Join { what, source })
            })?;
        let confinement = Confinement::of_process(self.pid).map_err(|source| {
            let proc_dir = proc_dir.clone();
            let what = JoinedFile::SeccompMode { proc_dir };
            self.gone_or(ProcessError::Join { what, source })
        })?;
        // Everything is open: if the pid still has the recorded start time, every
        // descriptor above belongs to the container and not to a recycled pid.
        if !process::is_same_process(self.pid, self.start_time) {
            return Err(self.not_running());
        }
        Ok(Opened {
            namespaces,
            root,
            cgroup_procs,
            setgroups_allowed,
            capabilities,
            confinement,
        })
    }

    fn not_running(&self) -> ProcessError {
        ProcessError::NotRunning {
            id: format!("with pid {}", self.pid),
            status: "its first process has exited".to_owned(),
        }
    }

    fn gone_or(&self, error: ProcessError) -> ProcessError {
        if process::is_same_process(self.pid, self.start_time) {
            error
        } else {
            self.not_running()
        }
    }
}

/// Whether `pid`'s namespace of type `ns` is another one than ours (compared by device
/// and inode of the `/proc/…/ns` files, as `lsns` does).
fn differs(pid: libc::pid_t, ns: Namespace) -> bool {
    let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{ns}"));
    let ours = std::fs::metadata(format!("/proc/self/ns/{ns}"));
    match (theirs, ours) {
        (Ok(t), Ok(o)) => (t.dev(), t.ino()) != (o.dev(), o.ino()),
        _ => false,
    }
}

/// The command's pid, written by the joining process, or `None` if it failed before.
fn read_pid(read: OwnedFd) -> Result<Option<libc::pid_t>> {
    let mut bytes = Vec::new();
    File::from(read)
        .read_to_end(&mut bytes)
        .map_err(ProcessError::io(ProcessStep::ReadJoinedPid))?;
    Ok(<[u8; 4]>::try_from(bytes.as_slice())
        .ok()
        .map(libc::pid_t::from_ne_bytes))
}
