//! cgroups: limits really enforced (an OOM kill, throttled CPU, refused forks), counters
//! that move, a cgroup namespace, and no cgroup left afterwards. Each value is read from
//! the cgroup's own files on the host, in the v1 or v2 vocabulary this machine speaks.

use vessel::cgroups::Version;

use super::support::{held, int, own_ns};
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::runtime::{Limits, Request, Session};

const MEMORY_LIMIT: u64 = 32 << 20;
const QUOTA_US: u64 = 20_000;
const PERIOD_US: u64 = 100_000;
const PIDS_MAX: u64 = 16;

pub const CHECKS: [Check; 8] = [
    Check {
        area: "cgroup",
        name: "namespace-root",
        claim: "With a cgroup namespace, the container sees its own cgroup as / in every hierarchy.",
        needs: &[],
        run: namespace_root,
    },
    Check {
        area: "cgroup",
        name: "in-own-cgroup",
        claim: "The container's process is in the container's own cgroup, not the caller's.",
        needs: &[Needs::Controller("memory")],
        run: in_own_cgroup,
    },
    Check {
        area: "cgroup",
        name: "memory-oom-kill",
        claim: "A process going past the memory limit is killed by the OOM killer, and the cgroup counts the kill.",
        needs: &[Needs::Controller("memory")],
        run: memory_oom_kill,
    },
    Check {
        area: "cgroup",
        name: "cpu-quota-enforced",
        claim: "A 20% CPU quota holds a spinning process to 10-30% of one CPU, by the cgroup's own CPU accounting.",
        needs: &[Needs::Controller("cpu")],
        run: cpu_quota_enforced,
    },
    Check {
        area: "cgroup",
        name: "pids-max-enforced",
        claim: "pids.max refuses forks (EAGAIN) once the container holds that many tasks.",
        needs: &[Needs::Controller("pids")],
        run: pids_max_enforced,
    },
    Check {
        area: "cgroup",
        name: "limits-written",
        claim: "The memory, CPU and pids limits in the cgroup's files are exactly the ones asked for.",
        needs: Needs::LIMITS,
        run: limits_written,
    },
    Check {
        area: "cgroup",
        name: "stats-move",
        claim: "The cgroup's counters move: memory in use, CPU time used and tasks are all counted.",
        needs: Needs::LIMITS,
        run: stats_move,
    },
    Check {
        area: "cgroup",
        name: "removed-after-exit",
        claim: "The container's cgroup directories exist while it runs and are gone after it exits.",
        needs: &[Needs::Controller("memory")],
        run: removed_after_exit,
    },
];

fn v2(ctx: &Ctx) -> bool {
    ctx.world.cgroups == Version::V2
}

fn number(text: &str, what: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} is {text:?}, not a number"))
}

/// `KEY N` from a flat-keyed file (`memory.events`, `cpu.stat`, `memory.oom_control`).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

fn oom_kills(ctx: &Ctx, session: &Session) -> Result<u64, String> {
    let (file, text) = if v2(ctx) {
        (
            "memory.events",
            session.cgroup_file("memory", "memory.events")?,
        )
    } else {
        (
            "memory.oom_control",
            session.cgroup_file("memory", "memory.oom_control")?,
        )
    };
    keyed(&text, "oom_kill").ok_or_else(|| format!("{file} has no oom_kill line: {text:?}"))
}

fn cpu_usage_ns(ctx: &Ctx, session: &Session) -> Result<u64, String> {
    if v2(ctx) {
        let text = session.cgroup_file("cpu", "cpu.stat")?;
        Ok(keyed(&text, "usage_usec").ok_or("cpu.stat has no usage_usec")? * 1000)
    } else {
        number(
            &session.cgroup_file("cpuacct", "cpuacct.usage")?,
            "cpuacct.usage",
        )
    }
}

fn throttled(session: &Session) -> Result<u64, String> {
    let text = session.cgroup_file("cpu", "cpu.stat")?;
    keyed(&text, "nr_throttled").ok_or_else(|| format!("cpu.stat has no nr_throttled: {text:?}"))
}

fn memory_usage(ctx: &Ctx, session: &Session) -> Result<u64, String> {
    let file = if v2(ctx) {
        "memory.current"
    } else {
        "memory.usage_in_bytes"
    };
    number(&session.cgroup_file("memory", file)?, file)
}

fn limited(args: &[&str], limits: Limits) -> Request {
    let mut request = Request::probe(args);
    request.limits = limits;
    request
}

fn namespace_root(ctx: &Ctx) -> Outcome {
    let report = super::support::report_of(ctx, &[])?;
    let not_root: Vec<&String> = report
        .cgroup
        .iter()
        .filter(|l| !l.ends_with(":/"))
        .collect();
    ensure(!report.cgroup.is_empty() && not_root.is_empty(), || {
        format!("/proc/self/cgroup inside shows paths other than /: {not_root:?}")
    })?;
    ensure(own_ns(&report, "cgroup"), || {
        "the container shares the host's cgroup namespace".to_owned()
    })
}

/// Fails unless the container's process is a member of every cgroup directory the
/// session reads (the kernel's `cgroup.procs`, not what the runtime says it made): the
/// limits and counters the other checks read are then really the container's.
fn placed(session: &Session) -> Outcome {
    let pid = session.host_pid()?.to_string();
    ensure(!session.cgroup.is_empty(), || {
        "the runtime names no cgroup directory for the container".to_owned()
    })?;
    for (controller, dir) in &session.cgroup {
        let procs = session.cgroup_file(controller, "cgroup.procs")?;
        ensure(procs.lines().any(|l| l.trim() == pid), || {
            format!(
                "host pid {pid} is not in {}/cgroup.procs ({procs:?})",
                dir.display()
            )
        })?;
    }
    Ok(())
}

fn in_own_cgroup(ctx: &Ctx) -> Outcome {
    let (session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    let pid = session.host_pid()?;
    let members = placed(&session);
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    session.finish()?;
    members?;
    ensure(!theirs.is_empty() && ours != theirs, || {
        format!("the container is in the caller's cgroups: {theirs:?}")
    })
}

fn memory_oom_kill(ctx: &Ctx) -> Outcome {
    let limits = Limits {
        memory: Some(MEMORY_LIMIT),
        ..Limits::default()
    };
    let eat = (8 * MEMORY_LIMIT).to_string();
    let (mut session, _) = held(ctx, limited(&[], limits))?;
    let line = session.ask(&format!("eat {eat}"), "eat")?;
    let kills = oom_kills(ctx, &session)?;
    session.finish()?;
    ensure(int(&line, "signal")? == i64::from(libc::SIGKILL), || {
        format!("a child touching {eat} bytes under a {MEMORY_LIMIT}-byte limit ended with {line}")
    })?;
    ensure(kills >= 1, || {
        format!("the child was SIGKILLed but the cgroup counted {kills} OOM kills")
    })
}

fn cpu_quota_enforced(ctx: &Ctx) -> Outcome {
    let limits = Limits {
        cpu: Some((QUOTA_US, PERIOD_US)),
        ..Limits::default()
    };
    let (mut session, _) = held(ctx, limited(&[], limits))?;
    let before = cpu_usage_ns(ctx, &session)?;
    let spin = session.ask("spin 1000", "spin")?;
    let used = cpu_usage_ns(ctx, &session)? - before;
    let throttled = throttled(&session)?;
    session.finish()?;
    let wall = int(&spin, "wall_ns")? as f64;
    let share = used as f64 / wall;
    let quota = QUOTA_US as f64 / PERIOD_US as f64;
    ensure(share <= quota * 1.5 && share >= quota * 0.5, || {
        format!(
            "spinning for {:.0} ms used {:.0} ms of CPU by the cgroup's count: {:.0}% of a CPU, quota {:.0}%",
            wall / 1e6,
            used as f64 / 1e6,
            share * 100.0,
            quota * 100.0
        )
    })?;
    ensure(throttled > 0, || {
        "cpu.stat counts no throttled period".to_owned()
    })
}

fn pids_max_enforced(ctx: &Ctx) -> Outcome {
    let limits = Limits {
        pids: Some(PIDS_MAX),
        ..Limits::default()
    };
    let (mut session, _) = held(ctx, limited(&[], limits))?;
    let tasks = number(
        &session.cgroup_file("pids", "pids.current")?,
        "pids.current",
    )?;
    let forks = session.ask("forks 64", "forks")?;
    session.finish()?;
    let forked = int(&forks, "forked")?;
    // Exactly up to the limit: the tasks already there count against it.
    let room = PIDS_MAX.saturating_sub(tasks) as i64;
    ensure(forked == room, || {
        format!(
            "{forked} forks succeeded with {tasks} tasks under pids.max {PIDS_MAX}, expected {room}"
        )
    })?;
    ensure(int(&forks, "errno")? == i64::from(libc::EAGAIN), || {
        format!(
            "the refused fork failed with {}, expected EAGAIN",
            forks["errno"]
        )
    })
}

fn limits_written(ctx: &Ctx) -> Outcome {
    let limits = Limits {
        memory: Some(MEMORY_LIMIT),
        cpu: Some((QUOTA_US, PERIOD_US)),
        pids: Some(PIDS_MAX),
    };
    let (session, _) = held(ctx, limited(&[], limits))?;
    placed(&session)?;
    let read = |c: &str, f: &str| session.cgroup_file(c, f).map(|t| t.trim().to_owned());
    let found = if v2(ctx) {
        vec![
            (
                "memory.max",
                read("memory", "memory.max")?,
                MEMORY_LIMIT.to_string(),
            ),
            (
                "cpu.max",
                read("cpu", "cpu.max")?,
                format!("{QUOTA_US} {PERIOD_US}"),
            ),
            ("pids.max", read("pids", "pids.max")?, PIDS_MAX.to_string()),
        ]
    } else {
        vec![
            (
                "memory.limit_in_bytes",
                read("memory", "memory.limit_in_bytes")?,
                MEMORY_LIMIT.to_string(),
            ),
            (
                "cpu.cfs_quota_us",
                read("cpu", "cpu.cfs_quota_us")?,
                QUOTA_US.to_string(),
            ),
            (
                "cpu.cfs_period_us",
                read("cpu", "cpu.cfs_period_us")?,
                PERIOD_US.to_string(),
            ),
            ("pids.max", read("pids", "pids.max")?, PIDS_MAX.to_string()),
        ]
    };
    session.finish()?;
    let wrong: Vec<String> = found
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(file, got, want)| format!("{file} is {got:?}, expected {want:?}"))
        .collect();
    ensure(wrong.is_empty(), || wrong.join("; "))
}

fn stats_move(ctx: &Ctx) -> Outcome {
    let (mut session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    let cpu_before = cpu_usage_ns(ctx, &session)?;
    session.ask("spin 100", "spin")?;
    let cpu_after = cpu_usage_ns(ctx, &session)?;
    let memory = memory_usage(ctx, &session)?;
    let tasks = number(
        &session.cgroup_file("pids", "pids.current")?,
        "pids.current",
    )?;
    session.finish()?;
    ensure(cpu_after > cpu_before, || {
        format!("CPU usage did not move across 100 ms of spinning ({cpu_before} -> {cpu_after} ns)")
    })?;
    ensure(memory > 0, || "memory usage is 0".to_owned())?;
    ensure(tasks >= 1, || format!("pids.current is {tasks}"))
}

fn removed_after_exit(ctx: &Ctx) -> Outcome {
    let (session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    let dirs: Vec<_> = session.cgroup.iter().map(|(_, d)| d.clone()).collect();
    let missing: Vec<_> = dirs.iter().filter(|d| !d.is_dir()).collect();
    ensure(!dirs.is_empty() && missing.is_empty(), || {
        format!("while running, the cgroup directories {missing:?} do not exist")
    })?;
    session.finish()?;
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    ensure(left.is_empty(), || {
        format!("still there after exit: {left:?}")
    })
}
