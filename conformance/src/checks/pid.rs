//! PID namespace: the container's processes are numbered from 1 and see nothing else.

use super::support::{held, int, own_ns, report_of};
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::host;
use crate::runtime::Request;

pub const CHECKS: [Check; 6] = [
    Check {
        area: "pid",
        name: "init-is-pid-1",
        claim: "The container's first process is PID 1 of a PID namespace of its own.",
        needs: &[],
        run: init_is_pid_1,
    },
    Check {
        area: "pid",
        name: "host-pids-invisible",
        claim: "No host process can be seen or signalled from inside, not even by its host pid.",
        needs: &[],
        run: host_pids_invisible,
    },
    Check {
        area: "pid",
        name: "proc-shows-only-container",
        claim: "/proc inside lists only the container's processes, and /proc/self is the container's pid.",
        needs: &[],
        run: proc_shows_only_container,
    },
    Check {
        area: "pid",
        name: "orphans-reaped",
        claim: "An orphaned process is re-parented to the container's PID 1, which reaps it.",
        needs: &[],
        run: orphans_reaped,
    },
    Check {
        area: "pid",
        name: "init-ignores-sigkill-from-inside",
        claim: "PID 1 survives SIGKILL sent from inside its own namespace, as the kernel promises a namespace's init.",
        needs: &[],
        run: init_ignores_sigkill,
    },
    Check {
        area: "pid",
        name: "all-die-with-init",
        claim: "When PID 1 exits, every other process of the container is killed too.",
        needs: &[],
        run: all_die_with_init,
    },
];

fn init_is_pid_1(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(report.pid == 1, || {
        format!("the probe is pid {}", report.pid)
    })?;
    ensure(own_ns(&report, "pid"), || {
        format!(
            "the container shares the host's PID namespace {}",
            report.ns["pid"]
        )
    })
}

fn host_pids_invisible(ctx: &Ctx) -> Outcome {
    let ours = std::process::id().to_string();
    let finished = ctx
        .runtime
        .run(ctx.world, &Request::probe(&["signal0", &ours, "report"]))?;
    let signal = finished.line("signal0")?;
    ensure(int(signal, "errno")? == i64::from(libc::ESRCH), || {
        format!(
            "kill({ours}, 0) from inside gave errno {} instead of ESRCH",
            signal["errno"]
        )
    })?;
    let report = super::support::Report::from(finished.line("report")?)?;
    ensure(
        !report
            .visible_pids
            .contains(&i64::from(std::process::id() as i32)),
        || format!("the host pid {ours} is listed in the container's /proc"),
    )
}

fn proc_shows_only_container(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(report.visible_pids == [1], || {
        format!("/proc lists {:?}, expected only [1]", report.visible_pids)
    })?;
    ensure(report.proc_self == "1", || {
        format!("/proc/self is {:?}, expected \"1\"", report.proc_self)
    })
}

fn orphans_reaped(ctx: &Ctx) -> Outcome {
    let finished = ctx.runtime.run(ctx.world, &Request::probe(&["orphan"]))?;
    let orphan = finished.line("orphan")?;
    ensure(int(orphan, "orphan_ppid")? == 1, || {
        format!(
            "the orphan's new parent is pid {}, not the container's PID 1",
            orphan["orphan_ppid"]
        )
    })?;
    ensure(orphan["reaped"] == true, || {
        "PID 1 could not reap the orphan".to_owned()
    })
}

fn init_ignores_sigkill(ctx: &Ctx) -> Outcome {
    let finished = ctx
        .runtime
        .run(ctx.world, &Request::probe(&["kill-init", "report"]))?;
    let kill = finished.line("kill_init")?;
    ensure(kill["sent"] == true, || {
        format!("kill(1, SIGKILL) was refused: {kill}")
    })?;
    finished.line("report")?;
    ensure(finished.code == 0, || {
        format!(
            "PID 1 died (exit code {}) from a SIGKILL sent inside",
            finished.code
        )
    })
}

fn all_die_with_init(ctx: &Ctx) -> Outcome {
    let (session, report) = held(ctx, Request::probe(&["background"]))?;
    let pidns = report.ns["pid"].clone();
    if pidns == host::ns("pid") {
        // Nothing would kill the child, and it holds the probe's stdout open: end it
        // here, or finishing the session would wait for it forever.
        let pid = session.host_pid()?;
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            // SAFETY: kill has no memory arguments; the pid is the probe's own child.
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
        session.finish()?;
        return Err(format!("the container shares the host's PID namespace {pidns}").into());
    }
    let running = host::pids_in_ns("pid", &pidns);
    ensure(running.len() >= 2, || {
        format!("expected PID 1 and its background child in {pidns}, the host sees {running:?}")
    })?;
    session.finish()?;
    let left = host::pids_in_ns("pid", &pidns);
    ensure(left.is_empty(), || {
        format!("host pids {left:?} are still in the container's PID namespace after PID 1 exited")
    })
}
