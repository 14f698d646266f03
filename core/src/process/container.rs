//! Starting a container and waiting for it: the parent's side of the process model.

use std::borrow::Cow;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::cgroups::{Cgroup, CgroupSpec, Layout, Resources, Stats};
use crate::namespaces::Namespace;
use crate::process::child;
use crate::process::clone::{Cloned, clone3_in};
use crate::process::error::Result;
use crate::process::error::{ProcessError, ProcessStep, Refusal};
use crate::process::exit::ExitStatus;
use crate::process::pipe::{self, ChildEnds, Pipe, Report, StepFailure};
use crate::process::plan;
use crate::process::plan::step::{ExecStep, Plan, Step};
use crate::process::spec::ContainerSpec;
use crate::process::stdio::Stdio;
use crate::process::time_handshake::TimeHandshake;
use crate::process::trace::{self, StartTrace, Tracer};

/// Starts containers.
#[derive(Debug)]
pub struct Container;

impl Container {
    // ANCHOR: spawn
    /// Starts `spec`'s command in new namespaces on its own root filesystem, and returns
    /// once it is running (its `execve` succeeded) or with the reason it could not start.
    ///
    /// Safe to call from a multi-threaded program: the child only runs the pre-planned
    /// steps between `clone3` and `execve`.
    pub fn spawn(spec: &ContainerSpec) -> Result<Running> {
        Container::spawn_with_stdio(spec, Stdio::default())
    }

    /// Like [`Container::spawn`], with the container's stdin, stdout and stderr chosen
    /// by the caller instead of inherited.
    pub fn spawn_with_stdio(spec: &ContainerSpec, stdio: Stdio<'_>) -> Result<Running> {
        Container::spawn_supervised(spec, stdio, |_| Ok::<(), ProcessError>(()))
    }

    /// Like [`Container::spawn_with_stdio`], and calls `cloned` with the child's pid
    /// while the child still waits on the go pipe, before it may run anything. A
    /// supervisor records the pid there: if it is killed later, the container is found
    /// by that pid; if it is killed earlier, the child sees end-of-file on the go pipe
    /// and exits without ever running the command. If `cloned` fails, the child is
    /// killed and the error returned (the supervisor's error type, which every
    /// [`ProcessError`] converts into).
    pub fn spawn_supervised<E: From<ProcessError>>(
        spec: &ContainerSpec,
        stdio: Stdio<'_>,
        cloned: impl FnOnce(libc::pid_t) -> Result<(), E>,
    ) -> Result<Running, E> {
        Container::start_child(spec, stdio, None, cloned)
    }

    // ANCHOR: create
    /// The first half of the OCI create/start split: like
    /// [`Container::spawn_supervised`], but the child stops just before `execve` (before
    /// its `startContainer` hooks, if any), every other step (namespaces, mounts, cgroup,
    /// id maps, capabilities, seccomp) done, blocked reading the gate's exec fifo
    /// (opened read-write) until `vessel start` writes a byte to it. Returns once the
    /// child waits there; [`Running::detach`] then lets the caller exit and leave the
    /// container waiting.
    pub fn create<E: From<ProcessError>>(
        spec: &ContainerSpec,
        stdio: Stdio<'_>,
        gate: StartGate<'_>,
        cloned: impl FnOnce(libc::pid_t) -> Result<(), E>,
    ) -> Result<Running, E> {
        Container::start_child(spec, stdio, Some(gate), cloned)
    }
    // ANCHOR_END: create

    fn start_child<E: From<ProcessError>>(
        spec: &ContainerSpec,
        stdio: Stdio<'_>,
        gate: Option<StartGate<'_>>,
        cloned: impl FnOnce(libc::pid_t) -> Result<(), E>,
    ) -> Result<Running, E> {
        // 1. Prepare everything before the child exists: its steps, the cgroup, the pipes.
        let mut tracer = spec.trace_start.then(Tracer::start).transpose()?;
        let mut plan = Plan::for_spec(spec)?;
        plan.steps.splice(0..0, stdio.steps());
        if let Some(gate) = gate {
            // Last before execve and the startContainer hooks: seccomp, capabilities and
            // the user are already in force.
            let at = plan.start_gate_position();
            plan.steps.insert(
                at,
                Step::AwaitStart {
                    fifo: gate.exec_fifo.as_raw_fd(),
                    reply: gate.reply.map(|fd| fd.as_raw_fd()),
                },
            );
        }
        mark(&mut tracer, "plan the child's steps");
        let time = TimeHandshake::prepare(&mut plan)?;
        let to_make = CgroupToMake::for_spec(spec)?;
        // ANCHOR: cgroup_before_clone
        // On cgroup v2 the child is born in its cgroup (CLONE_INTO_CGROUP), so the cgroup
        // exists, limits and device rules and all, before the child does; if anything
        // below fails, dropping it removes it again. On v1 it is made after the clone,
        // while the child makes its root (see `Plan::for_spec`).
        let mut cgroup = None;
        if let Some(to_make) = to_make.as_ref().filter(|m| m.before_clone()) {
            cgroup = Some(to_make.make()?);
            mark(&mut tracer, "create cgroup");
        }
        // ANCHOR_END: cgroup_before_clone
        let go = Pipe::new()?;
        let report = Pipe::new()?;
        let mut child_ends = ChildEnds::of(&go, &report);
        child_ends.trace = tracer.as_ref().map(Tracer::child_fd);
        mark(&mut tracer, "create pipes");

        // 2. One clone3: the child starts in its namespaces (and, on v2, its cgroup).
        let born_in = cgroup
            .as_ref()
            .map(Cgroup::clone_into_fd)
            .transpose()
            .map_err(ProcessError::from)?
            .flatten();
        let (pid, pidfd) = clone_child(spec, &plan, child_ends, born_in.as_ref())?;
        mark(&mut tracer, "clone3");
        // The child holds its own copy of the report pipe's write end; ours must go, or
        // we would never see end-of-file on it. Our copy of the go pipe's read end stays
        // until the go is sent: a child that failed before its wait is then no reason
        // for the write to fail (EPIPE), and its own report says what went wrong.
        drop(report.write);
        let mut running = Running::new(pid, pidfd, cgroup);

        // 3. The parent's share of the set-up, while the child makes its root (or waits).
        let set_up = make_cgroup_after_clone(to_make, &mut running, &mut tracer)
            .and_then(|()| set_up_from_parent(spec, &running, born_in.is_none(), &mut tracer))
            .map_err(E::from)
            .and_then(|()| cloned(pid));
        if let Err(error) = set_up {
            // The child may have failed first (its report says so) or be waiting.
            let _ = running.kill(libc::SIGKILL);
            return Err(child_error_or(&plan, report.read, &mut running, error));
        }
        mark(&mut tracer, "the supervisor records the pid");
        pipe::send_go(go.write)?;
        drop(go.read);
        mark(&mut tracer, "send go");
        if let Some(time) = time
            && let Err(error) = time.write_offsets(pid, &spec.time_offsets)
        {
            return Err(child_error_or(&plan, report.read, &mut running, error).into());
        }

        // 4. The child runs its steps; the report pipe says how it went.
        Ok(await_exec(running, &plan, report.read, tracer)?)
    }
    // ANCHOR_END: spawn
}

/// Where a created container waits for `vessel start` (see [`Container::create`]).
#[derive(Debug, Clone, Copy)]
pub struct StartGate<'a> {
    /// The exec fifo, opened read-write: the child reads `start`'s byte from it.
    pub exec_fifo: BorrowedFd<'a>,
    /// A second fifo, opened read-write, that `start` reads until `execve` closes the
    /// child's copy: how a failing `startContainer` hook (or `execve`) reaches `start`.
    /// Failures are numbered from the first step after the wait.
    pub reply: Option<BorrowedFd<'a>>,
}

impl<'a> StartGate<'a> {
    /// A gate with only the exec fifo: for a bundle without `startContainer` hooks.
    pub fn new(exec_fifo: BorrowedFd<'a>) -> StartGate<'a> {
        StartGate {
            exec_fifo,
            reply: None,
        }
    }
}

/// On cgroup v1, makes the container's cgroup (while the child makes its root) and
/// hands it to `running`, which removes it with the container.
fn make_cgroup_after_clone(
    to_make: Option<CgroupToMake<'_>>,
    running: &mut Running,
    tracer: &mut Option<Tracer>,
) -> Result<()> {
    if let Some(to_make) = to_make.filter(|m| !m.before_clone()) {
        running.cgroup = Some(to_make.make()?);
        mark(tracer, "create cgroup");
    }
    Ok(())
}

// ANCHOR: container_cgroup
/// The container's cgroup, checked and placed but not made yet: the spec's, or, when
/// the spec has none but device rules (and we are root, so they can be applied), one
/// made just to hold them.
struct CgroupToMake<'a> {
    /// Placed: checked against this machine, its layout read (once, here or earlier).
    spec: Cow<'a, CgroupSpec>,
    devices: Option<&'a crate::cgroups::DeviceRules>,
}

impl<'a> CgroupToMake<'a> {
    fn for_spec(spec: &'a ContainerSpec) -> Result<Option<CgroupToMake<'a>>> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let devices = spec.devices.as_ref().filter(|_| root);
        let placed = match (&spec.cgroup, devices) {
            (Some(cgroup), _) if cgroup.placement().is_some() => Cow::Borrowed(cgroup),
            (Some(cgroup), _) => Cow::Owned(cgroup.clone().place()?),
            (None, Some(_)) => {
                let implicit = CgroupSpec::new(implicit_cgroup_name(), Resources::default());
                Cow::Owned(implicit.place()?)
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(CgroupToMake {
            spec: placed,
            devices,
        }))
    }

    /// On cgroup v2 the child is cloned into the cgroup, which must exist first.
    fn before_clone(&self) -> bool {
        matches!(self.spec.placement(), Some(Layout::V2 { .. }))
    }

    /// Makes the cgroup with its limits, and the device rules before any process is in it.
    fn make(&self) -> Result<Cgroup> {
        let mut cgroup = Cgroup::create(&self.spec)?;
        if let Some(rules) = self.devices {
            cgroup.restrict_devices(rules)?;
        }
        Ok(cgroup)
    }
}
// ANCHOR_END: container_cgroup

/// A name no other container of this or another process has: `ctr-PID-N`.
fn implicit_cgroup_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "ctr-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates the child with one `clone3`; in the child, runs the plan and never returns.
fn clone_child(
    spec: &ContainerSpec,
    plan: &Plan,
    child_ends: ChildEnds,
    born_in: Option<&OwnedFd>,
) -> Result<(libc::pid_t, OwnedFd)> {
    // SAFETY: in the child we call only `child::run`, which makes async-signal-safe
    // system calls on memory prepared by the caller and ends in `execve` or `_exit`.
    let cloned = unsafe { clone3_in(plan::clone_flags(spec.namespaces), born_in.map(AsFd::as_fd)) }
        .map_err(ProcessError::io(if born_in.is_some() {
            ProcessStep::CloneIntoCgroup
        } else {
            ProcessStep::Clone
        }))?;
    match cloned {
        Cloned::Child => child::run(plan, child_ends),
        Cloned::Parent { pid, pidfd } => Ok((pid, pidfd)),
    }
}

/// What only the parent can do while the child waits: write the user namespace's id
/// maps, and (on cgroup v1) attach the child to its cgroup. On failure the caller drops
/// `running`: the child is killed and the cgroup removed.
fn set_up_from_parent(
    spec: &ContainerSpec,
    running: &Running,
    attach: bool,
    tracer: &mut Option<Tracer>,
) -> Result<()> {
    if spec.namespaces.contains(Namespace::User) {
        spec.effective_id_mapping().write_for(running.pid)?;
        mark(tracer, "write uid/gid maps");
    }
    // ANCHOR: cgroup_attach
    // The child is blocked on the go pipe, so its command starts inside the cgroup.
    if let Some(cgroup) = &running.cgroup
        && attach
    {
        cgroup.attach(running.pid)?;
        mark(tracer, "attach to cgroup");
    }
    // ANCHOR_END: cgroup_attach
    // ANCHOR: network_attach
    // Bridge mode: the child's network namespace exists (the clone made it) and the
    // child waits, so its eth0 is wired before its command can use the network.
    if let Some(network) = &spec.network {
        network.attach(running.pid)?;
        mark(tracer, "network: veth pair, address, route");
    }
    // ANCHOR_END: network_attach
    Ok(())
}

/// Reads the report pipe until `execve` closes it (the command started) or the child
/// reports the step that failed, which becomes the error.
fn await_exec(
    mut running: Running,
    plan: &Plan,
    report: OwnedFd,
    tracer: Option<Tracer>,
) -> Result<Running> {
    match pipe::read_report(report)? {
        Report::Started => {
            let exec_seen = trace::monotonic_nanos();
            running.start_trace = tracer.map(|t| t.finish(plan, exec_seen));
            Ok(running)
        }
        Report::Failed(failure) => {
            running.wait()?;
            Err(failure_to_error(plan, failure))
        }
        Report::Vanished => {
            let status = running.wait()?;
            Err(ProcessError::refused(
                ProcessStep::SetUp,
                Refusal::ChildEnded { status },
            ))
        }
    }
}

/// After a parent-side step failed: the child's own report if it failed first (e.g. its
/// `unshare` was refused), else the parent's error. The child is reaped either way.
fn child_error_or<E: From<ProcessError>>(
    plan: &Plan,
    report: OwnedFd,
    running: &mut Running,
    error: E,
) -> E {
    let report = pipe::read_report(report);
    let _ = running.wait();
    match report {
        Ok(Report::Failed(failure))
            if !matches!(
                plan.step(failure.step as usize),
                Some(Step::AwaitTimeOffsets { .. })
            ) =>
        {
            failure_to_error(plan, failure).into()
        }
        _ => error,
    }
}

/// Turns the child's `(step, errno)` into the error a user can act on.
pub(crate) fn failure_to_error(plan: &Plan, failure: StepFailure) -> ProcessError {
    let source = io::Error::from_raw_os_error(failure.errno);
    match plan.step(failure.step as usize) {
        Some(Step::Exec(exec)) => exec_error(exec, failure.errno, source),
        Some(Step::Hook(hook)) => ProcessError::Hook {
            hook: hook.describe(),
            outcome: failure.hook_outcome(),
        },
        Some(step) if failure.errno == libc::ELOOP && step.resolves_in_root() => {
            ProcessError::SymlinkInRootfs {
                step: step.describe(),
            }
        }
        Some(step) => ProcessError::Step {
            step: step.describe(),
            source,
        },
        None => ProcessError::io(ProcessStep::UnknownStep)(source),
    }
}

fn exec_error(exec: &ExecStep, errno: i32, source: io::Error) -> ProcessError {
    match errno {
        libc::ENOENT => ProcessError::CommandNotFound {
            command: exec.command.clone(),
            searched: searched(exec),
        },
        libc::EACCES | libc::ENOEXEC | libc::EISDIR | libc::ETXTBSY | libc::EPERM => {
            ProcessError::NotExecutable {
                command: exec.command.clone(),
                source,
            }
        }
        _ => ProcessError::Step {
            step: format!("execve({:?})", exec.command),
            source,
        },
    }
}

fn searched(exec: &ExecStep) -> String {
    let paths: Vec<_> = exec
        .candidates
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    paths.join(", ")
}

/// A container whose command is running.
///
/// Dropping it without [`Running::wait`] kills the container with `SIGKILL` and reaps it,
/// so no container outlives the value that owns it by accident.
#[derive(Debug)]
pub struct Running {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    status: Option<ExitStatus>,
    /// The container's cgroup while it runs; removed by `wait`.
    cgroup: Option<Cgroup>,
    /// The cgroup's counters as `wait` last read them, just before removing it.
    final_stats: Option<Stats>,
    /// Where the start-up time went, when the spec asked.
    start_trace: Option<StartTrace>,
}

impl Running {
    /// Takes charge of `pid`, an unreaped child of this process with no cgroup of its
    /// own (a process `vessel exec` started), with its pidfd.
    pub(crate) fn adopt(pid: libc::pid_t, pidfd: OwnedFd) -> Running {
        Running::new(pid, pidfd, None)
    }

    /// A just-cloned, not yet reaped child, with the cgroup it will be removed with.
    fn new(pid: libc::pid_t, pidfd: OwnedFd, cgroup: Option<Cgroup>) -> Running {
        Running {
            pid,
            pidfd,
            status: None,
            cgroup,
            final_stats: None,
            start_trace: None,
        }
    }

    /// The stages of this container's start and their durations, if
    /// [`ContainerSpec::trace_start`] was set.
    pub fn start_trace(&self) -> Option<&StartTrace> {
        self.start_trace.as_ref()
    }

    /// The container's first process, as the host's PID namespace numbers it.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// A pidfd for the container's first process: it can be polled (readable when the
    /// process exits) and signalled without any risk of hitting a recycled pid.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Sends `signal` to the container's first process.
    pub fn kill(&self, signal: libc::c_int) -> Result<()> {
        crate::sys::pidfd::send_signal(self.pidfd.as_fd(), signal)
            .map_err(ProcessError::io(ProcessStep::Signal))?;
        Ok(())
    }

    /// Waits for the container's first process to end and reaps it. Calling it again
    /// returns the same status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let mut raw = 0;
        loop {
            // SAFETY: `raw` is a live int; `pid` is our own unreaped child, so the pid
            // cannot have been recycled for another process.
            let ret = unsafe { libc::waitpid(self.pid, &mut raw, 0) };
            if ret == self.pid {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(ProcessError::io(ProcessStep::Waitpid)(err));
            }
        }
        let status = ExitStatus::from_wait_status(raw);
        self.status = Some(status);
        self.release_cgroup()?;
        Ok(status)
    }

    /// Lets the container go on without this value: no kill, no wait, the cgroup kept;
    /// returns its pid and cgroup directories. For `vessel create`, which exits while the
    /// container waits for `vessel start`; whoever is our parent's subreaper (conmon,
    /// containerd's shim) reaps it in the end.
    pub fn detach(mut self) -> (libc::pid_t, Vec<std::path::PathBuf>) {
        let dirs = match self.cgroup.take() {
            Some(cgroup) => {
                let dirs = cgroup.dirs();
                std::mem::forget(cgroup);
                dirs
            }
            None => Vec::new(),
        };
        let pid = self.pid;
        // Not dropped: dropping would kill the container.
        std::mem::forget(self);
        (pid, dirs)
    }

    /// The container's cgroup while it runs (`None` without one, or after `wait`).
    pub fn cgroup(&self) -> Option<&Cgroup> {
        self.cgroup.as_ref()
    }

    /// The cgroup's counters: live while the container runs, final after `wait`
    /// (`None` for a container without a cgroup, or after `wait` when nobody asked for
    /// them: see [`Cgroup::final_stats`]).
    pub fn stats(&self) -> Result<Option<Stats>> {
        match &self.cgroup {
            Some(cgroup) => Ok(Some(cgroup.stats()?)),
            None => Ok(self.final_stats),
        }
    }

    /// Whether the kernel's OOM killer killed a process of the container (read from
    /// the cgroup's own counter, not guessed from the exit signal). Final after `wait`.
    pub fn oom_killed(&self) -> bool {
        matches!(self.stats(), Ok(Some(stats)) if stats.oom_killed())
    }

    // ANCHOR: release_cgroup
    /// After the first process is reaped: read the final counters that were asked for
    /// ([`Cgroup::final_stats`]), kill anything left in the cgroup, and remove it.
    fn release_cgroup(&mut self) -> Result<()> {
        if let Some(cgroup) = self.cgroup.take() {
            self.final_stats = cgroup.final_stats()?;
            cgroup.remove()?;
        }
        Ok(())
    }
    // ANCHOR_END: release_cgroup
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.kill(libc::SIGKILL);
            let _ = self.wait();
        }
    }
}

/// Notes the end of a parent-side stage when tracing.
fn mark(tracer: &mut Option<Tracer>, stage: &str) {
    if let Some(tracer) = tracer {
        tracer.mark(stage);
    }
}
