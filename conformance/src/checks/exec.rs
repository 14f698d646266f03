//! exec: a process started in a running container (`vessel exec`, which joins with
//! `setns`; `runc exec` and the like for peers) is in every one of its namespaces, its
//! root and its cgroups, and the container sees it.

use super::support::{Report, held};
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::host;
use crate::runtime::Request;
use crate::world::PROBE_IN_ROOTFS;

pub const CHECKS: [Check; 4] = [
    Check {
        area: "exec",
        name: "joined-namespaces-equal",
        claim: "An exec'd process is in exactly the container's namespaces, all of them.",
        needs: &[],
        run: joined_namespaces_equal,
    },
    Check {
        area: "exec",
        name: "same-root-and-hostname",
        claim: "An exec'd process sees the container's root filesystem, mounts and hostname.",
        needs: &[],
        run: same_root_and_hostname,
    },
    Check {
        area: "exec",
        name: "same-cgroup",
        claim: "An exec'd process is in the container's cgroups.",
        needs: &[Needs::Controller("pids")],
        run: same_cgroup,
    },
    Check {
        area: "exec",
        name: "visible-in-container",
        claim: "An exec'd process is not PID 1, and the container's PID 1 sees it in /proc.",
        needs: &[],
        run: visible_in_container,
    },
];

/// What the container and an exec'd probe reported, with both host pids and their
/// `/proc/PID/cgroup` read while both certainly ran.
struct Joined {
    container: Report,
    exec: Report,
    /// The container's view of /proc while the exec'd probe still ran.
    seen_from_container: Report,
    cgroups: (String, String),
}

fn join(ctx: &Ctx) -> Result<Joined, String> {
    let mut request = Request::probe::<&str>(&[]);
    request.hostname = Some("exec-box".to_owned());
    request.limits.pids = Some(64);
    let (mut session, container) = held(ctx, request)?;
    let container_pid = session.host_pid()?;
    let mut exec = session.exec(&[PROBE_IN_ROOTFS, "report", "hold"])?;
    let exec_report = Report::from(&exec.next("report")?)?;
    // Both run now (the exec'd probe holds until its stdin closes); an exited task's
    // /proc/PID/cgroup would no longer name its cgroups.
    let exec_pid = host::pid_in_ns(&exec_report.ns["pid"], exec_report.pid).ok_or_else(|| {
        format!(
            "no host process is pid {} of {}",
            exec_report.pid, exec_report.ns["pid"]
        )
    })?;
    let read =
        |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let cgroups = (read(container_pid), read(exec_pid));
    let seen_from_container = Report::from(&session.ask("report", "report")?)?;
    exec.finish()?;
    session.finish()?;
    Ok(Joined {
        container,
        exec: exec_report,
        seen_from_container,
        cgroups,
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
    })?;
    // The same root directory is not enough: entering it with chroot from the host's
    // mount namespace shows the right files but the host's mount table.
    let (exec, container) = (joined.exec.mount_points(), joined.container.mount_points());
    ensure(exec == container, || {
        format!("the exec'd process sees the mounts {exec:?}, the container {container:?}")
    })
}

fn same_cgroup(ctx: &Ctx) -> Outcome {
    let joined = join(ctx)?;
    let (container, exec) = &joined.cgroups;
    ensure(!exec.is_empty() && exec == container, || {
        format!("the exec'd process's cgroups {exec:?} differ from the container's {container:?}")
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
    )
}
