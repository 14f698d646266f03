//! `vessel run --cap-add/--cap-drop/--privileged` and `vessel exec`: the capability sets
//! the kernel reports inside (`/proc/self/status`), and what a dropped one forbids.

mod cli_support;

use std::os::unix::process::CommandExt;

use cli_support::{kill_and_wait, run, start_sleeper, text, vessel, vessel_in};
use vessel::security::capabilities::{self, CapSet, DOCKER_DEFAULT};

/// The five sets the command sees, from `grep Cap /proc/self/status` inside.
fn sets_inside(options: &[&str]) -> capabilities::Capabilities {
    let out = run(options, &["grep", "Cap", "/proc/self/status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    capabilities::parse_status(&text(&out.stdout)).expect("five Cap lines")
}

#[test]
fn a_container_keeps_exactly_dockers_default_set() {
    vessel::require_root!();
    let caps = sets_inside(&[]);
    assert_eq!(caps, capabilities::Capabilities::docker_default());
    assert_eq!(caps.bounding.0, 0xa80425fb, "as docker shows it");
}

#[test]
fn drop_all_and_add_one_keeps_that_one() {
    vessel::require_root!();
    let caps = sets_inside(&["--cap-drop", "ALL", "--cap-add", "CHOWN"]);
    let chown = CapSet::of(&["CHOWN"]);
    assert_eq!(caps, capabilities::Capabilities::only(chown));
    let caps = sets_inside(&["--cap-drop", "cap_kill", "--cap-add", "net_admin"]);
    let want = DOCKER_DEFAULT
        .without(capabilities::parse("KILL").unwrap())
        .with(capabilities::parse("NET_ADMIN").unwrap());
    assert_eq!(caps.bounding, want);
    assert_eq!(caps.effective, want);
}

#[test]
fn privileged_keeps_every_capability_vessel_has() {
    vessel::require_root!();
    let (_, permitted, _) = capabilities::own().unwrap();
    let caps = sets_inside(&["--privileged"]);
    assert_eq!(caps.effective, permitted);
    assert_eq!(caps.permitted, permitted);
    assert_eq!(caps.ambient, CapSet::EMPTY);
}

#[test]
fn a_user_namespace_gets_the_default_set_too() {
    vessel::require_root!();
    let caps = sets_inside(&["--userns"]);
    assert_eq!(caps, capabilities::Capabilities::docker_default());
}

#[test]
fn mounting_needs_cap_sys_admin() {
    vessel::require_root!();
    let mount = [
        "sh",
        "-c",
        "mount -t tmpfs t /mnt 2>/dev/null && echo mounted || echo refused",
    ];
    assert_eq!(text(&run(&[], &mount).stdout), "refused\n");
    assert_eq!(
        text(&run(&["--cap-add", "SYS_ADMIN"], &mount).stdout),
        "mounted\n"
    );
}

#[test]
fn an_unknown_name_exits_125_before_anything_exists() {
    // Checked before any cgroup, layer or record: no root needed to see the refusal.
    let dir = tempfile::tempdir().unwrap();
    let out = vessel(dir.path(), &["run", "--cap-add", "NET_ADMN", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        text(&out.stderr),
        "vessel: --cap-add NET_ADMN: unknown capability (see capabilities(7); e.g. NET_ADMIN, CAP_SYS_ADMIN or ALL)\n"
    );
    let out = vessel(
        dir.path(),
        &["run", "-d", "--cap-drop", "kil", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("--cap-drop kil: unknown capability"));
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn exec_gets_the_containers_capabilities() {
    vessel::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let id = start_sleeper(
        vessel_in(dir.path()),
        &["--cap-drop", "ALL", "--cap-add", "KILL"],
    );
    let out = vessel(
        dir.path(),
        &["exec", &id, "grep", "Cap", "/proc/self/status"],
    );
    let caps = capabilities::parse_status(&text(&out.stdout));
    kill_and_wait(vessel_in(dir.path()), dir.path(), &id);
    let _ = vessel(dir.path(), &["rm", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        caps,
        Some(capabilities::Capabilities::only(CapSet::of(&["KILL"])))
    );
}

#[test]
fn a_capability_step_the_kernel_refuses_names_itself() {
    vessel::require_root!();
    // An inheritable capability outside the bounding set: capset(2) refuses it with
    // EPERM after the bounding set was cut to CHOWN, and the error names that step.
    let rootfs = vessel::rootfs::default_rootfs().unwrap();
    let chown = CapSet::of(&["CHOWN"]);
    let caps = capabilities::Capabilities {
        inheritable: CapSet::of(&["KILL"]),
        ..capabilities::Capabilities::only(chown)
    };
    let spec = vessel::ContainerSpec::new(rootfs, ["true"]).capabilities(Some(caps));
    let error = vessel::Container::spawn(&spec).unwrap_err();
    assert_eq!(
        vessel::cli::error_chain(&error),
        "capset(effective 0x1, permitted 0x1, inheritable 0x20): Operation not permitted (os error 1)"
    );
}

#[test]
fn a_capability_vessel_lacks_is_refused_before_the_start() {
    vessel::require_root!();
    // Root normally holds every capability, so none would be missing: vessel is started
    // with one dropped from its bounding set instead (the set `execve` draws root's
    // permitted set from), which it then lacks whatever the test runner holds.
    let (_, permitted, _) = capabilities::own().unwrap();
    let missing = CapSet::all_known()
        .minus(permitted)
        .numbers()
        .next()
        .unwrap_or_else(|| capabilities::parse("SYS_TIME").expect("a known capability"));
    let dir = tempfile::tempdir().unwrap();
    let name = capabilities::name(missing);
    let mut command = vessel_in(dir.path());
    command.args(["run", "--rm", "--cap-add", &name, "--", "true"]);
    // SAFETY: the closure runs in the forked child before `execve` and calls only
    // prctl, which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            let cap = libc::c_ulong::from(missing);
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().expect("run vessel");
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "would keep {name}, which vessel itself does not have"
        )),
        "{}",
        text(&out.stderr)
    );
}
