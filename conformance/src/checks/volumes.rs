//! Volumes: bind mounts seen inside, never in the host's mount table, `:ro` enforced.

use std::fs;

use vessel::rootfs::volume::Volume;

use super::support::{held, int};
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::host;
use crate::runtime::Request;

pub const CHECKS: [Check; 4] = [
    Check {
        area: "volumes",
        name: "visible-inside",
        claim: "A volume's host files are visible inside at the volume's path.",
        needs: &[],
        run: visible_inside,
    },
    Check {
        area: "volumes",
        name: "absent-from-host-mounts",
        claim: "A volume's bind mount never appears in the host's mount table, even while the container runs.",
        needs: &[],
        run: absent_from_host_mounts,
    },
    Check {
        area: "volumes",
        name: "read-only-enforced",
        claim: "Writing to a :ro volume fails with EROFS and the host directory stays unchanged.",
        needs: &[],
        run: read_only_enforced,
    },
    Check {
        area: "volumes",
        name: "writes-reach-host",
        claim: "A file written to a read-write volume appears in the host directory.",
        needs: &[],
        run: writes_reach_host,
    },
];

fn volume(ctx: &Ctx, name: &str, read_only: bool) -> Result<Volume, String> {
    let dir = ctx.world.scratch(name)?;
    fs::write(dir.join("hello"), "from the host\n").map_err(|e| e.to_string())?;
    Ok(Volume {
        host: dir,
        container: "/vol".into(),
        read_only,
        attrs: 0,
    })
}

fn with_volume(args: &[&str], volume: &Volume) -> Request {
    let mut request = Request::probe(args);
    request.volumes.push(volume.clone());
    request
}

fn visible_inside(ctx: &Ctx) -> Outcome {
    let volume = volume(ctx, "volume-visible", false)?;
    let finished = ctx
        .runtime
        .run(ctx.world, &with_volume(&["cat", "/vol/hello"], &volume))?;
    let cat = finished.line("cat")?;
    ensure(cat["text"] == "from the host\n", || {
        format!("reading /vol/hello inside gave {cat}")
    })
}

fn absent_from_host_mounts(ctx: &Ctx) -> Outcome {
    let volume = volume(ctx, "volume-hidden", false)?;
    let before = host::mounts_below(&ctx.world.work);
    let (session, report) = held(ctx, with_volume(&[], &volume))?;
    let on_host = host::mounts_below(&ctx.world.work).new_since(&before);
    session.finish()?;
    ensure(report.mount_points().iter().any(|p| p == "/vol"), || {
        "the volume is not mounted inside".to_owned()
    })?;
    ensure(on_host.is_empty(), || {
        format!("the host's mount table shows {on_host:?} while the container runs")
    })
}

fn read_only_enforced(ctx: &Ctx) -> Outcome {
    let volume = volume(ctx, "volume-ro", true)?;
    let finished = ctx
        .runtime
        .run(ctx.world, &with_volume(&["write", "/vol/new"], &volume))?;
    let write = finished.line("write")?;
    ensure(int(write, "errno")? == i64::from(libc::EROFS), || {
        format!("writing to a :ro volume gave {write}, expected EROFS")
    })?;
    ensure(!volume.host.join("new").exists(), || {
        "the file appeared in the host directory".to_owned()
    })
}

fn writes_reach_host(ctx: &Ctx) -> Outcome {
    let volume = volume(ctx, "volume-rw", false)?;
    let finished = ctx
        .runtime
        .run(ctx.world, &with_volume(&["write", "/vol/new"], &volume))?;
    let write = finished.line("write")?;
    ensure(int(write, "errno")? == 0, || {
        format!("the write failed: {write}")
    })?;
    let text = fs::read_to_string(volume.host.join("new")).unwrap_or_default();
    ensure(text == "written by vessel-probe\n", || {
        format!("the host directory holds {text:?}")
    })
}
