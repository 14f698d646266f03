//! Recovery: vessel or its shim killed with SIGKILL at chosen points (the crash points
//! of `vessel::lifecycle::crash`), then `ps` must tell the truth — a dead container is
//! never shown running — and `rm -f` must clean up everything.

mod lifecycle_support;

use lifecycle_support::{Vessel, cgroup_dirs, live_processes, text, unique_sleep, wait_gone};
use vessel::state::Observed;

fn sigkill(pid: libc::pid_t) {
    // SAFETY: kill(2) with a pid this test was handed by the process itself (over the
    // hold pipe) while that process waits in pause(); it cannot have been recycled.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    wait_gone(pid);
}

fn status_in_ps(vessel: &Vessel, id: &str) -> String {
    let ps = vessel.ok(&["ps", "-a"]);
    ps.lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} not in ps -a:\n{ps}"))
        .to_owned()
}

/// A start nobody can finish any more (its supervisor and its process are gone) is
/// removed by the next `ps`, with its cgroups, layers and record: `ps -a` never lists it.
fn assert_reaped_by_ps(vessel: &Vessel, id: &str) {
    let ps = vessel.ok(&["ps", "-a"]);
    assert!(!ps.contains(id), "{id} was not reaped:\n{ps}");
    assert!(
        vessel.state().find(id).is_err(),
        "{id}'s record is still there"
    );
}

#[test]
fn shim_killed_while_the_container_runs_then_the_container_dies() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "-m", "32m", "--", "sleep", "1000"]);
    let id = id.trim();
    let record = vessel.state().find(id).unwrap();
    sigkill(record.shim_pid);
    // The container outlives its shim: still running, and ps says so.
    assert_eq!(record.observed(), Observed::Running);
    assert!(status_in_ps(&vessel, id).ends_with("running"));
    // Now the container dies with nobody to record it: ps must not say running.
    assert!(record.is_running());
    // SAFETY: kill(2) of the container's pid, checked against its start time just now;
    // nothing reaps it in between (its parent, the shim, is dead).
    assert_eq!(unsafe { libc::kill(record.pid, libc::SIGKILL) }, 0);
    wait_gone(record.pid);
    let line = status_in_ps(&vessel, id);
    assert!(
        line.ends_with("exited (exit not recorded: its supervisor died)"),
        "{line}"
    );
    assert!(!vessel.ok(&["ps"]).contains(id), "ps without -a lists it");
    let wait = vessel.fails(&["wait", id]);
    assert!(wait.contains("its exit code is unknown"), "{wait}");
    // The cgroup is still there (the shim died before removing it); rm removes it.
    assert!(record.cgroup_dirs.iter().any(|d| d.exists()));
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
    vessel.assert_empty();
}

#[test]
fn shim_killed_and_rm_f_kills_the_orphaned_container() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "--name", "orphan", "--", "sleep", "1000"]);
    let id = id.trim();
    let record = vessel.state().find(id).unwrap();
    sigkill(record.shim_pid);
    assert!(record.is_running());
    vessel.ok(&["rm", "-f", "orphan"]);
    wait_gone(record.pid);
    vessel.assert_gone(id);
    vessel.assert_empty();
}

#[test]
fn shim_killed_after_reaping_before_recording_the_exit() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (cli, shim) = vessel.hold(
        "shim-exited",
        &["run", "-d", "-m", "32m", "--", "sh", "-c", "exit 4"],
    );
    let out = cli.wait_with_output().unwrap();
    let id = text(&out.stdout).trim().to_owned();
    sigkill(shim);
    let record = vessel.state().find(&id).unwrap();
    assert_eq!(record.status, vessel::state::Status::Running, "as stored");
    assert_eq!(record.observed(), Observed::Exited(None), "as seen");
    assert!(status_in_ps(&vessel, &id).contains("exited (exit not recorded"));
    vessel.ok(&["rm", "-f", &id]);
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn shim_killed_before_starting_the_container() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (cli, shim) = vessel.hold("shim-supervised", &["run", "-d", "-m", "32m", "--", "true"]);
    let id = vessel.state().list().unwrap()[0].id.clone();
    sigkill(shim);
    // The CLI sees its shim die, says so, and cleans up.
    let out = cli.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("the container's supervisor died before starting it"),
        "{}",
        text(&out.stderr)
    );
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn vessel_and_shim_both_killed_before_the_start() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (mut cli, shim) = vessel.hold("shim-supervised", &["run", "-d", "--", "true"]);
    let id = vessel.state().list().unwrap()[0].id.clone();
    cli.kill().unwrap();
    cli.wait().unwrap();
    sigkill(shim);
    // The CLI made the layers before forking; nobody removed them.
    assert!(
        vessel::state::paths::layers(&vessel::rootfs::state_root(), &id)
            .dir()
            .exists()
    );
    assert_reaped_by_ps(&vessel, &id);
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn shim_killed_just_after_the_start_and_the_cli_cleans_up() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (cli, shim) = vessel.hold(
        "run-started",
        &["run", "-d", "-m", "32m", "--", "sleep", "1000"],
    );
    let record = vessel.state().list().unwrap()[0].clone();
    assert!(record.is_running());
    sigkill(shim);
    let out = cli.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    // The CLI killed the container its shim had started.
    wait_gone(record.pid);
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

#[test]
fn vessel_killed_before_anything_but_the_record_exists() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (mut cli, pid) = vessel.hold(
        "run-recorded",
        &["run", "--name", "early", "-m", "32m", "--", "true"],
    );
    assert_eq!(pid as u32, cli.id());
    sigkill(pid);
    cli.wait().unwrap();
    let id = vessel.state().find("early").unwrap().id;
    assert_reaped_by_ps(&vessel, &id);
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn foreground_vessel_killed_while_its_container_runs() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (mut cli, pid) = vessel.hold(
        "run-started",
        &["run", "--name", "fgk", "-m", "32m", "--", "sleep", "1000"],
    );
    sigkill(pid);
    cli.wait().unwrap();
    let record = vessel.state().find("fgk").unwrap();
    // vessel is gone; its container is not, and ps says so, with its pid.
    assert!(record.is_running());
    let line = status_in_ps(&vessel, &record.id);
    assert!(
        line.contains(&record.pid.to_string()) && line.ends_with("running"),
        "{line}"
    );
    vessel.ok(&["rm", "-f", "fgk"]);
    wait_gone(record.pid);
    for dir in cgroup_dirs(&record.id) {
        assert!(!dir.exists(), "{}", dir.display());
    }
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

#[test]
fn rm_killed_halfway_is_finished_by_running_it_again() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "-m", "32m", "--", "sleep", "1000"]);
    let id = id.trim();
    let record = vessel.state().find(id).unwrap();
    let (mut rm, pid) = vessel.hold("rm-killed", &["rm", "-f", id]);
    sigkill(pid);
    rm.wait().unwrap();
    wait_gone(record.pid);
    // The container is dead, its record (and maybe more) still there: ps tells the truth.
    assert!(status_in_ps(&vessel, id).contains("exited"));
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
    vessel.assert_empty();
}

#[test]
fn rm_f_while_the_shim_is_starting_the_container() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let (cli, _shim) = vessel.hold(
        "shim-supervised",
        &[
            "run", "-d", "--name", "starting", "-m", "32m", "--", "sleep", "1000",
        ],
    );
    let id = vessel.state().find("starting").unwrap().id;
    assert!(status_in_ps(&vessel, &id).ends_with("created"));
    // The shim is stopped mid-start by rm -f itself; the CLI then reports it.
    assert_eq!(vessel.ok(&["rm", "-f", "starting"]), "starting\n");
    let out = cli.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn shim_killed_after_the_exec_before_recording_the_start_leaves_no_orphan() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let argv = unique_sleep(1);
    // No limits: no cgroup to find the container by, only its recorded pid.
    let (cli, shim) = vessel.hold("run-spawned", &["run", "-d", "--", argv[0], argv[1]]);
    let record = vessel.state().list().unwrap()[0].clone();
    assert_eq!(record.status, vessel::state::Status::Created, "as stored");
    assert!(
        record.pid > 0,
        "the pid is recorded before the exec: {record:?}"
    );
    sigkill(shim);
    // The CLI sees its shim die and kills the container the shim had started.
    let out = cli.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert_eq!(live_processes(&argv), Vec::<libc::pid_t>::new());
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

#[test]
fn vessel_and_shim_killed_after_the_exec_then_ps_and_rm_f_find_the_container() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let argv = unique_sleep(2);
    let (mut cli, shim) = vessel.hold(
        "run-spawned",
        &["run", "-d", "--name", "lost", "--", argv[0], argv[1]],
    );
    cli.kill().unwrap();
    cli.wait().unwrap();
    sigkill(shim);
    let id = vessel.state().find("lost").unwrap().id;
    // Recorded as created, but its process runs: ps must say so.
    assert!(status_in_ps(&vessel, &id).ends_with("running"));
    let refused = vessel.fails(&["rm", "lost"]);
    assert!(refused.contains("running"), "{refused}");
    vessel.ok(&["rm", "-f", "lost"]);
    assert_eq!(live_processes(&argv), Vec::<libc::pid_t>::new());
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn vessel_and_shim_killed_before_the_go_signal_then_the_child_exits_by_itself() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let argv = unique_sleep(3);
    let (mut cli, shim) = vessel.hold("run-cloned", &["run", "-d", "--", argv[0], argv[1]]);
    let record = vessel.state().list().unwrap()[0].clone();
    assert!(record.pid > 0 && record.started.is_none(), "{record:?}");
    cli.kill().unwrap();
    cli.wait().unwrap();
    sigkill(shim);
    // Nobody will send "go": the child reads end-of-file and exits before the exec.
    wait_gone(record.pid);
    assert_eq!(live_processes(&argv), Vec::<libc::pid_t>::new());
    assert_reaped_by_ps(&vessel, &record.id);
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

#[test]
fn foreground_vessel_killed_before_the_go_signal_then_the_child_exits_by_itself() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let argv = unique_sleep(4);
    let (mut cli, pid) = vessel.hold(
        "run-cloned",
        &["run", "--name", "fgc", "--", argv[0], argv[1]],
    );
    let record = vessel.state().find("fgc").unwrap();
    assert!(record.pid > 0 && record.started.is_none(), "{record:?}");
    sigkill(pid);
    cli.wait().unwrap();
    wait_gone(record.pid);
    assert_eq!(live_processes(&argv), Vec::<libc::pid_t>::new());
    assert_reaped_by_ps(&vessel, &record.id);
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

#[test]
fn foreground_vessel_killed_after_the_exec_before_recording_the_start() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let argv = unique_sleep(5);
    // No limits: no cgroup to find the container by, only its recorded pid.
    let (mut cli, pid) = vessel.hold(
        "run-spawned",
        &["run", "--name", "fgs", "--", argv[0], argv[1]],
    );
    sigkill(pid);
    cli.wait().unwrap();
    let id = vessel.state().find("fgs").unwrap().id;
    assert!(status_in_ps(&vessel, &id).ends_with("running"));
    assert!(vessel.fails(&["rm", "fgs"]).contains("is running"));
    vessel.ok(&["rm", "-f", "fgs"]);
    assert_eq!(live_processes(&argv), Vec::<libc::pid_t>::new());
    vessel.assert_gone(&id);
    vessel.assert_empty();
}
