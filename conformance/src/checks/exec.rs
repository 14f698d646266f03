//! exec (vessel only, through `vessel::tenant::Tenant`): a process that joins a running
//! container with `setns` is in every one of its namespaces, its root and its cgroup.

use std::fs::File;
use std::os::fd::AsFd;

use vessel::pipe::Pipe;
use vessel::tenant::Tenant;
use vessel::{ContainerSpec, Stdio};

use super::support::{Report, held};
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::runtime::Request;
use crate::runtime::vessel::error_chain;
use crate::world::PROBE_IN_ROOTFS;

pub const CHECKS: [Check; 4] = [
    Check {
        area: "exec",
        name: "joined-namespaces-equal",
        claim: "An exec'd process is in exactly the container's namespaces, all of them.",
        needs: &[Needs::VesselApi],
        run: joined_namespaces_equal,
    },
    Check {
        area: "exec",
        name: "same-root-and-hostname",
        claim: "An exec'd process sees the container's root filesystem and hostname.",
        needs: &[Needs::VesselApi],
        run: same_root_and_hostname,
    },
    Check {
        area: "exec",
        name: "same-cgroup",
        claim: "An exec'd process is in the container's cgroups.",
        needs: &[Needs::VesselApi, Needs::Controller("pids")],
        run: same_cgroup,
    },
    Check {
        area: "exec",
        name: "visible-in-container",
        claim: "An exec'd process is not PID 1, and the container's PID 1 sees it in /proc.",
        needs: &[Needs::VesselApi],
        run: visible_in_container,
    },
];

/// What the container reported, what an exec'd probe reported, and the exec'd host pid.
struct Joined {
    container: Report,
    exec: Report,
    container_pid: i32,
    exec_pid: i32,
    /// The container's view of /proc while the exec'd probe still ran.
    seen_from_container: Report,
}

fn join(ctx: &Ctx) -> Result<Joined, String> {
    let mut request = Request::probe::<&str>(&[]);
    request.hostname = Some("exec-box".to_owned());
    let (mut session, container) = held(ctx, request)?;
    let container_pid = session.host_pid()?;
    let tenant = Tenant::of_pid(container_pid).map_err(|e| error_chain(&e))?;
    let (stdin, stdout) = (
        Pipe::new().map_err(|e| error_chain(&e))?,
        Pipe::new().map_err(|e| error_chain(&e))?,
    );
    let mut running = tenant
        .spawn_with_stdio(
            &ContainerSpec::new("/", [PROBE_IN_ROOTFS, "report", "hold"]),
            Stdio {
                stdin: Some(stdin.read.as_fd()),
                stdout: Some(stdout.write.as_fd()),
                stderr: None,
            },
        )
        .map_err(|e| format!("exec into the container: {}", error_chain(&e)))?;
    drop((stdin.read, stdout.write));
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(File::from(stdout.read)));
    let first = lines
        .next()
        .ok_or("the exec'd probe printed nothing")?
        .map_err(|e| e.to_string())?;
    let exec = Report::from(&serde_json::from_str(&first).map_err(|e| e.to_string())?)?;
    let exec_pid = running.pid();
    let seen_from_container = Report::from(&session.ask("report", "report")?)?;
    drop(stdin.write);
    running.wait().map_err(|e| error_chain(&e))?;
    session.finish()?;
    Ok(Joined {
        container,
        exec,
        container_pid,
        exec_pid,
        seen_from_container,
    })
}

fn joined_namespaces_equal(ctx: &Ctx) -> Outcome {
    let joined = join(ctx)?;
    ensure(joined.exec.ns == joined.container.ns, || {
        format!(
            "exec'd namespaces {:?} differ from the container's {:?}",
            joined.exec.ns, joined.container.ns
        )
    })
}

fn same_root_and_hostname(ctx: &Ctx) -> Outcome {
    let joined = join(ctx)?;
    ensure(joined.exec.root == joined.container.root, || {
        format!(
            "exec'd / is {}, the container's {}",
            joined.exec.root, joined.container.root
        )
    })?;
    ensure(joined.exec.hostname == "exec-box", || {
        format!(
            "the exec'd process sees hostname {:?}",
            joined.exec.hostname
        )
    })
}

fn same_cgroup(ctx: &Ctx) -> Outcome {
    let mut request = Request::probe::<&str>(&[]);
    request.limits.pids = Some(64);
    let (session, _) = held(ctx, request)?;
    let pid = session.host_pid()?;
    let tenant = Tenant::of_pid(pid).map_err(|e| error_chain(&e))?;
    let (stdin, stdout) = (
        Pipe::new().map_err(|e| error_chain(&e))?,
        Pipe::new().map_err(|e| error_chain(&e))?,
    );
    let mut running = tenant
        .spawn_with_stdio(
            &ContainerSpec::new("/", [PROBE_IN_ROOTFS, "report", "hold"]),
            Stdio {
                stdin: Some(stdin.read.as_fd()),
                stdout: Some(stdout.write.as_fd()),
                stderr: None,
            },
        )
        .map_err(|e| format!("exec into the container: {}", error_chain(&e)))?;
    drop((stdin.read, stdout.write));
    // Once it has reported, the exec'd probe certainly runs (an exited task's
    // /proc/PID/cgroup no longer names its cgroups) until its stdin closes.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(File::from(stdout.read)));
    lines
        .next()
        .ok_or("the exec'd probe printed nothing")?
        .map_err(|e| e.to_string())?;
    let exec_pid = running.pid();
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let mine = std::fs::read_to_string(format!("/proc/{exec_pid}/cgroup")).unwrap_or_default();
    drop(stdin.write);
    running.wait().map_err(|e| error_chain(&e))?;
    session.finish()?;
    ensure(!mine.is_empty() && mine == theirs, || {
        format!("the exec'd process's cgroups {mine:?} differ from the container's {theirs:?}")
    })
}

fn visible_in_container(ctx: &Ctx) -> Outcome {
    let joined = join(ctx)?;
    ensure(joined.exec.pid != 1, || {
        "the exec'd process is PID 1".to_owned()
    })?;
    ensure(
        joined
            .seen_from_container
            .visible_pids
            .contains(&joined.exec.pid),
        || {
            format!(
                "the container's /proc lists {:?}, not the exec'd pid {}",
                joined.seen_from_container.visible_pids, joined.exec.pid
            )
        },
    )?;
    ensure(joined.exec_pid != joined.container_pid, || {
        "same host pid".to_owned()
    })
}
