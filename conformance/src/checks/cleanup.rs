//! Cleanup: nothing of a container outlives it, whether it ran or failed to start.
//! (The runner also compares mounts, cgroups, netns and runtime state around every
//! check; these checks make the promise explicit, for the richest container.)

use std::collections::BTreeSet;
use std::fs;

use vessel::rootfs::volume::Volume;

use super::support::held;
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::host;
use crate::leaks::Snapshot;
use crate::runtime::{Limits, Request, Runtime};

pub const CHECKS: [Check; 4] = [
    Check {
        area: "cleanup",
        name: "no-mounts-left",
        claim: "After a container with a volume and limits exits, the host's mount table is as before.",
        needs: Needs::LIMITS,
        run: no_mounts_left,
    },
    Check {
        area: "cleanup",
        name: "no-cgroups-left",
        claim: "After a container exits, no cgroup of it is left in any hierarchy.",
        needs: Needs::LIMITS,
        run: no_cgroups_left,
    },
    Check {
        area: "cleanup",
        name: "no-netns-or-state-left",
        claim: "After a container exits, no network namespace, interface or runtime state of it is left.",
        needs: Needs::LIMITS,
        run: no_netns_or_state_left,
    },
    Check {
        area: "cleanup",
        name: "failed-start-leaves-nothing",
        claim: "A container whose command does not exist fails to start (127) and leaves nothing behind.",
        needs: Needs::LIMITS,
        run: failed_start_leaves_nothing,
    },
];

fn rich_request(ctx: &Ctx) -> Result<Request, String> {
    let dir = ctx.world.scratch("cleanup-volume")?;
    let mut request = Request::probe(&["mount-tmpfs", "/tmp"]).with_capability("SYS_ADMIN");
    request.hostname = Some("cleanup".to_owned());
    request.limits = Limits {
        memory: Some(64 << 20),
        cpu: Some((50_000, 100_000)),
        pids: Some(32),
    };
    request.volumes.push(Volume {
        host: dir,
        container: "/vol".into(),
        read_only: true,
        attrs: 0,
    });
    Ok(request)
}

fn no_mounts_left(ctx: &Ctx) -> Outcome {
    let request = rich_request(ctx)?;
    let before: BTreeSet<String> = host::mount_points().into_iter().collect();
    let (session, _) = held(ctx, request)?;
    session.finish()?;
    let after: BTreeSet<String> = host::mount_points().into_iter().collect();
    let work = ctx.world.work.display().to_string();
    let new: Vec<&String> = after
        .difference(&before)
        .filter(|p| p.starts_with(&work) || p.contains("vessel") || p.contains("/run/"))
        .collect();
    ensure(new.is_empty(), || format!("new host mounts: {new:?}"))
}

fn no_cgroups_left(ctx: &Ctx) -> Outcome {
    let (session, _) = held(ctx, rich_request(ctx)?)?;
    let dirs: Vec<_> = session.cgroup.iter().map(|(_, d)| d.clone()).collect();
    session.finish()?;
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    ensure(!dirs.is_empty() && left.is_empty(), || {
        format!("cgroup directories left: {left:?}")
    })
}

fn interfaces() -> BTreeSet<String> {
    fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Entries of a runtime's state directory that belong to this suite's containers.
fn ours_in(dir: &std::path::Path) -> Vec<String> {
    let ours = format!("-{}-", std::process::id());
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&ours))
        .collect()
}

fn no_netns_or_state_left(ctx: &Ctx) -> Outcome {
    let before = (Snapshot::take(ctx.world), interfaces());
    let (session, _) = held(ctx, rich_request(ctx)?)?;
    let state = match ctx.runtime {
        Runtime::Oci(oci) => Some(oci.state_root()),
        Runtime::Vessel => None,
    };
    if let Some(dir) = &state {
        // While it runs the state is there: this is the right place to look.
        ensure(!ours_in(dir).is_empty(), || {
            format!("no state of the running container in {}", dir.display())
        })?;
    }
    session.finish()?;
    let after = (Snapshot::take(ctx.world), interfaces());
    let leaked = after.0.new_since(&before.0);
    ensure(leaked.is_empty(), || format!("left behind: {leaked:?}"))?;
    let new_links: Vec<&String> = after.1.difference(&before.1).collect();
    ensure(new_links.is_empty(), || {
        format!("new network interfaces on the host: {new_links:?}")
    })?;
    if let Some(dir) = state {
        let left = ours_in(&dir);
        ensure(left.is_empty(), || {
            format!("runtime state left in {}: {left:?}", dir.display())
        })?;
    }
    Ok(())
}

fn failed_start_leaves_nothing(ctx: &Ctx) -> Outcome {
    let before = Snapshot::take(ctx.world);
    let mut request = rich_request(ctx)?;
    request.command = Some(vec!["/no/such/command".to_owned()]);
    let code = match ctx.runtime.start(ctx.world, &request) {
        Err(e) if ctx.runtime.is_vessel() && e.contains("not found") => 127,
        Err(e) => return Err(format!("starting failed unexpectedly: {e}").into()),
        Ok(session) => session.finish()?.code,
    };
    let left = Snapshot::take(ctx.world).new_since(&before);
    ensure(left.is_empty(), || format!("left behind: {left:?}"))?;
    ensure(
        code == 127 || (!ctx.runtime.is_vessel() && code != 0),
        || format!("the failed start ended with {code}, expected 127"),
    )
}
