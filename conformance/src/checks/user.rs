//! User namespace: exact id maps, and host files owned as mapped.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use vessel::rootfs::volume::Volume;

use super::support::{int, own_ns, report, report_of};
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::host;
use crate::runtime::{Request, USERNS_COUNT, USERNS_FIRST_HOST_ID};

pub const CHECKS: [Check; 5] = [
    Check {
        area: "user",
        name: "no-userns-unless-asked",
        claim: "Without a user namespace the container's ids are the host's (identity map, host user namespace).",
        needs: &[],
        run: no_userns_unless_asked,
    },
    Check {
        area: "user",
        name: "maps-exact",
        claim: "With a user namespace, uid_map and gid_map are exactly the mapping asked for.",
        needs: &[Needs::UserNamespaces],
        run: maps_exact,
    },
    Check {
        area: "user",
        name: "files-owned-as-mapped",
        claim: "A file root creates inside belongs on the host to the mapped uid and gid (100000), not to root.",
        needs: &[Needs::UserNamespaces],
        run: files_owned_as_mapped,
    },
    Check {
        area: "user",
        name: "unmapped-owner-is-nobody",
        claim: "A host file owned by an unmapped uid (host root) shows inside as owned by nobody (65534).",
        needs: &[Needs::UserNamespaces],
        run: unmapped_owner_is_nobody,
    },
    Check {
        area: "user",
        name: "root-inside-is-not-host-root",
        claim: "Root inside a user namespace cannot write a host root's file that only host root may write.",
        needs: &[Needs::UserNamespaces],
        run: root_inside_is_not_host_root,
    },
];

fn userns(args: &[&str]) -> Request {
    let mut request = Request::probe(args);
    request.userns = true;
    request
}

/// A host directory, world-writable so mapped root can create files, mounted at /mnt,
/// with `owned-by-root` (host root, mode 0644) inside. /mnt exists in the rootfs: mapped
/// root could not create a mount point in a rootfs that host root owns.
fn volume(ctx: &Ctx, name: &str) -> Result<Volume, String> {
    let dir = ctx.world.scratch(name)?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).map_err(|e| e.to_string())?;
    fs::write(dir.join("owned-by-root"), "host root's\n").map_err(|e| e.to_string())?;
    fs::set_permissions(dir.join("owned-by-root"), fs::Permissions::from_mode(0o644))
        .map_err(|e| e.to_string())?;
    Ok(Volume {
        host: dir,
        container: "/mnt".into(),
        read_only: false,
        attrs: 0,
    })
}

fn no_userns_unless_asked(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(report.ns["user"] == host::ns("user"), || {
        "a user namespace was created without being asked for".to_owned()
    })?;
    let map: Vec<&str> = report.uid_map.split_whitespace().collect();
    ensure(map == ["0", "0", "4294967295"], || {
        format!("uid_map is {:?}", report.uid_map)
    })
}

fn maps_exact(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &userns(&["report"]))?;
    let expected = vec![
        "0".to_owned(),
        USERNS_FIRST_HOST_ID.to_string(),
        USERNS_COUNT.to_string(),
    ];
    for (name, map) in [("uid_map", &report.uid_map), ("gid_map", &report.gid_map)] {
        let lines: Vec<Vec<String>> = map
            .lines()
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect();
        ensure(lines == [expected.clone()], || {
            format!(
                "{name} is {map:?}, expected exactly \"0 {USERNS_FIRST_HOST_ID} {USERNS_COUNT}\""
            )
        })?;
    }
    ensure(own_ns(&report, "user"), || {
        "no user namespace of its own".to_owned()
    })?;
    ensure(report.uid == 0, || {
        format!("the probe runs as uid {}", report.uid)
    })
}

fn files_owned_as_mapped(ctx: &Ctx) -> Outcome {
    let volume = volume(ctx, "user-owned")?;
    let mut request = userns(&["write", "/mnt/created"]);
    request.volumes.push(volume.clone());
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let write = finished.line("write")?;
    ensure(int(write, "errno")? == 0, || {
        format!("the write inside failed: {write}")
    })?;
    let meta = fs::metadata(volume.host.join("created")).map_err(|e| e.to_string())?;
    ensure(
        meta.uid() == USERNS_FIRST_HOST_ID && meta.gid() == USERNS_FIRST_HOST_ID,
        || {
            format!(
                "the file belongs to {}:{} on the host, expected {USERNS_FIRST_HOST_ID}:{USERNS_FIRST_HOST_ID}",
                meta.uid(),
                meta.gid()
            )
        },
    )
}

fn unmapped_owner_is_nobody(ctx: &Ctx) -> Outcome {
    let mut request = userns(&["stat", "/mnt/owned-by-root"]);
    request.volumes.push(volume(ctx, "user-nobody")?);
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let stat = finished.line("stat")?;
    ensure(
        int(stat, "uid")? == 65534 && int(stat, "gid")? == 65534,
        || format!("host root's file shows inside as {stat}"),
    )
}

fn root_inside_is_not_host_root(ctx: &Ctx) -> Outcome {
    let mut request = userns(&["write", "/mnt/owned-by-root"]);
    let volume = volume(ctx, "user-not-root")?;
    request.volumes.push(volume.clone());
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let write = finished.line("write")?;
    ensure(int(write, "errno")? == i64::from(libc::EACCES), || {
        format!("writing host root's 0644 file from inside gave {write}, expected EACCES")
    })?;
    let text = fs::read_to_string(volume.host.join("owned-by-root")).map_err(|e| e.to_string())?;
    ensure(text == "host root's\n", || "the file changed".to_owned())
}
