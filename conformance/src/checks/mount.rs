//! Mount namespace: private propagation both ways, `pivot_root` that leaves nothing of
//! the host reachable, and a chroot breakout that goes nowhere.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::support::{Report, held, own_ns, report};
use vessel::RootfsMode;

use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::host;
use crate::runtime::{Request, vessel as adapter};
use crate::world::{LATE_DIR, PROBE_IN_ROOTFS};

pub const CHECKS: [Check; 9] = [
    Check {
        area: "mount",
        name: "own-namespace",
        claim: "The container has a mount namespace of its own.",
        needs: &[],
        run: own_namespace,
    },
    Check {
        area: "mount",
        name: "root-is-rootfs",
        claim: "The container's / is its rootfs, not the host's /.",
        needs: &[],
        run: root_is_rootfs,
    },
    Check {
        area: "mount",
        name: "old-root-unreachable",
        claim: "After pivot_root nothing of the host's filesystem is mounted or reachable inside.",
        needs: &[],
        run: old_root_unreachable,
    },
    Check {
        area: "mount",
        name: "chroot-breakout-fails",
        claim: "The classic chroot escape (chroot into a subdirectory, climb with ..) cannot leave the container's root.",
        needs: &[],
        run: chroot_breakout_fails,
    },
    Check {
        area: "mount",
        name: "chroot-breakout-detectable",
        claim: "Control: under plain chroot (vessel's lesson mode) the same breakout reaches the host's files, so the check above can fail.",
        needs: &[Needs::VesselApi],
        run: chroot_breakout_detectable,
    },
    Check {
        area: "mount",
        name: "container-mounts-stay-inside",
        claim: "No mount made for or in the container appears in the host's mount table (private propagation).",
        needs: &[],
        run: container_mounts_stay_inside,
    },
    Check {
        area: "mount",
        name: "host-mounts-stay-outside",
        claim: "A mount the host makes under the rootfs after the container started never appears inside.",
        needs: &[],
        run: host_mounts_stay_outside,
    },
    Check {
        area: "mount",
        name: "dev-minimal",
        claim: "/dev holds only the standard character devices (null, zero, full, random, urandom, tty, ptys): no disk, no /dev/mem.",
        needs: &[],
        run: dev_minimal,
    },
    Check {
        area: "mount",
        name: "sys-read-only",
        claim: "/sys is mounted read-only inside.",
        needs: &[],
        run: sys_read_only,
    },
];

fn probe_paths(ctx: &Ctx) -> Vec<String> {
    vec![
        ctx.world.host_marker.display().to_string(),
        ctx.world.work.display().to_string(),
        // A control: a path every container has, so "unreachable" is a measurement.
        PROBE_IN_ROOTFS.to_owned(),
    ]
}

/// Fails unless the control path was found (the probe's lookups work at all).
fn control_reached(paths: &serde_json::Value) -> Outcome {
    ensure(paths[PROBE_IN_ROOTFS] == true, || {
        format!(
            "the probe could not see its own {PROBE_IN_ROOTFS}, so its other lookups prove nothing: {paths}"
        )
    })
}

fn with_paths(ctx: &Ctx, actions: &[&str]) -> Request {
    let mut args = Vec::new();
    for path in probe_paths(ctx) {
        args.push("--path".to_owned());
        args.push(path);
    }
    args.extend(actions.iter().map(|a| (*a).to_owned()));
    Request::probe(&args)
}

fn own_namespace(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &Request::probe(&["report"]))?;
    ensure(own_ns(&report, "mnt"), || {
        "the container shares the host's mount namespace".to_owned()
    })
}

/// `dev:ino` of a directory on the host, as the probe reports its `/`.
fn identity(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| format!("{}:{}", m.dev(), m.ino()))
        .map_err(|e| format!("stat {}: {e}", path.display()))
}

fn root_is_rootfs(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &Request::probe(&["report"]))?;
    let host_root = identity(Path::new("/"))?;
    ensure(report.root != host_root, || {
        format!("the container's / is the host's / ({host_root})")
    })?;
    // A bind mount keeps the directory's device and inode: the kernel's own answer to
    // "is this the rootfs the runtime was given?".
    let rootfs = identity(&ctx.world.rootfs)?;
    ensure(report.root == rootfs, || {
        format!(
            "the container's / is {}, the rootfs {} is {rootfs}",
            report.root,
            ctx.world.rootfs.display()
        )
    })
}

/// Mount points a container may have: its root, /proc, /dev and /sys, and below them.
fn allowed(point: &str) -> bool {
    point == "/"
        || ["/proc", "/dev", "/sys"]
            .iter()
            .any(|p| point == *p || point.starts_with(&format!("{p}/")))
}

fn old_root_unreachable(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &with_paths(ctx, &["report"]))?;
    ensure(report.paths.get(PROBE_IN_ROOTFS) == Some(&true), || {
        format!(
            "the probe could not see its own {PROBE_IN_ROOTFS}, so its other lookups prove nothing: {:?}",
            report.paths
        )
    })?;
    let reachable: Vec<&String> = report
        .paths
        .iter()
        .filter(|(p, r)| **r && *p != PROBE_IN_ROOTFS)
        .map(|(p, _)| p)
        .collect();
    ensure(reachable.is_empty(), || {
        format!("host paths reachable from inside: {reachable:?}")
    })?;
    // pivot_root(".", ".") stacks the old root on the new one at `/`: one `/` too many
    // is the old root still mounted.
    let roots = report.mount_points().iter().filter(|p| *p == "/").count();
    ensure(roots == 1, || {
        format!("{roots} mounts at / inside: the old root is still mounted under the new one")
    })?;
    let foreign: Vec<String> = report
        .mount_points()
        .into_iter()
        .filter(|p| !allowed(p))
        .collect();
    ensure(foreign.is_empty(), || {
        format!("mounts inside outside /, /proc, /dev and /sys (the old root?): {foreign:?}")
    })
}

fn chroot_breakout_fails(ctx: &Ctx) -> Outcome {
    let finished = ctx
        .runtime
        .run(ctx.world, &with_paths(ctx, &["breakout"]))?;
    let breakout = finished.line("breakout")?;
    ensure(breakout["chroot_errno"] == 0, || {
        format!("the breakout's first chroot failed, so it proves nothing: {breakout}")
    })?;
    ensure(breakout["escaped"] == false, || {
        format!("the breakout reached another root: {breakout}")
    })?;
    control_reached(&breakout["paths"])?;
    let reached: Vec<&String> = breakout["paths"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| **v == true && *k != PROBE_IN_ROOTFS)
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    ensure(reached.is_empty(), || {
        format!("after the breakout the host paths {reached:?} were reachable")
    })
}

fn chroot_breakout_detectable(ctx: &Ctx) -> Outcome {
    let request = with_paths(ctx, &["breakout"]);
    let spec = adapter::spec_for(ctx.world, &request).rootfs_mode(RootfsMode::Chroot);
    let finished = adapter::start_spec(&spec)?.finish()?;
    let breakout = finished.line("breakout")?;
    let marker = ctx.world.host_marker.display().to_string();
    ensure(
        breakout["escaped"] == true && breakout["paths"][&marker] == true,
        || format!("under chroot the breakout did not reach the host's {marker}: {breakout}"),
    )
}

fn container_mounts_stay_inside(ctx: &Ctx) -> Outcome {
    let before = host::mounts_below(&ctx.world.work);
    // Mounting needs CAP_SYS_ADMIN, which the default set lacks.
    let request = Request::probe(&["mount-tmpfs", "/tmp"]).with_capability("SYS_ADMIN");
    let (session, report) = held(ctx, request)?;
    ensure(report.mount_points().iter().any(|p| p == "/tmp"), || {
        "the probe's own tmpfs on /tmp is not in its mount table".to_owned()
    })?;
    let on_host = host::mounts_below(&ctx.world.work).new_since(&before);
    session.finish()?;
    ensure(on_host.is_empty(), || {
        format!("the host's mount table shows the container's mounts: {on_host:?}")
    })
}

fn host_mounts_stay_outside(ctx: &Ctx) -> Outcome {
    let late = ctx.world.rootfs.join(LATE_DIR.trim_start_matches('/'));
    let (mut session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    let _mounted = HostTmpfs::mount(&late)?;
    let line = session.ask("report", "report")?;
    let report = Report::from(&line)?;
    session.finish()?;
    ensure(!report.mount_points().iter().any(|p| p == LATE_DIR), || {
        format!(
            "the host's mount on {} appeared inside at {LATE_DIR}",
            late.display()
        )
    })
}

/// `major:minor` of the devices a container may have: null, zero, full, random,
/// urandom, tty, console and ptmx; any pty (major 136) is fine too.
const STANDARD_DEVICES: [&str; 8] = ["1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "5:1", "5:2"];

fn dev_minimal(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &Request::probe(&["report"]))?;
    ensure(report.devices.iter().any(|d| d.ends_with(" c 1:3")), || {
        format!(
            "no /dev/null among {:?}: the probe cannot see /dev",
            report.devices
        )
    })?;
    let unexpected: Vec<&String> = report
        .devices
        .iter()
        .filter(|d| {
            let mut fields = d.rsplit(' ');
            let numbers = fields.next().unwrap_or_default();
            let kind = fields.next().unwrap_or_default();
            kind != "c" || !(STANDARD_DEVICES.contains(&numbers) || numbers.starts_with("136:"))
        })
        .collect();
    ensure(unexpected.is_empty(), || {
        format!("device nodes a container should not have: {unexpected:?}")
    })
}

fn sys_read_only(ctx: &Ctx) -> Outcome {
    let (report, _) = report(ctx, &Request::probe(&["report"]))?;
    let sys = report
        .mountinfo
        .iter()
        .find(|l| host::mount_point(l) == "/sys")
        .ok_or("no /sys mount inside")?;
    let options = sys.split(' ').nth(5).unwrap_or_default();
    ensure(options.split(',').any(|o| o == "ro"), || {
        format!("/sys is mounted {options}")
    })
}

/// A tmpfs the host mounts for one check, unmounted when dropped.
struct HostTmpfs(CString);

impl HostTmpfs {
    fn mount(dir: &Path) -> Result<HostTmpfs, String> {
        let target = CString::new(dir.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
        // SAFETY: every pointer is a NUL-terminated string that outlives the call.
        let ret = unsafe {
            libc::mount(
                c"conformance-late".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if ret != 0 {
            return Err(format!(
                "mount a tmpfs on {} on the host: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(HostTmpfs(target))
    }
}

impl Drop for HostTmpfs {
    fn drop(&mut self) {
        // SAFETY: the path is a NUL-terminated string we mounted on.
        unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
    }
}
