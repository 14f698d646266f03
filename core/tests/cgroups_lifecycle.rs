//! A container's cgroup from birth to removal: attached before exec, frozen and thawed,
//! everything in it killed, and removed after every kind of ending — including a
//! container that never started.

mod cgroups_support;

use std::fs::File;
use std::io::BufReader;
use std::os::fd::AsFd;
use std::path::Path;

use cgroups_support::{assert_no_cgroup_left, sh_limited, state, unique, used_dirs, wait_for_line};
use vessel::cgroups::{CgroupSpec, Resources, Version, detect};
use vessel::process::error::ProcessError;
use vessel::process::pipe::Pipe;
use vessel::{Container, ContainerSpec, Error, ExitStatus, Namespace, Stdio, rootfs};

fn no_limits() -> Resources {
    Resources::default()
}

#[test]
fn the_command_starts_inside_its_cgroup() {
    vessel::require_root!();
    let name = unique("attached");
    let out = vessel::output(&sh_limited(&name, "cat /proc/self/cgroup", no_limits())).unwrap();
    // Without a cgroup namespace the container sees the host's paths: every line of the
    // hierarchies the container uses ends in our cgroup's name, and no other line does.
    let ours: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.ends_with(&format!("/vessel/{name}")))
        .collect();
    assert_eq!(ours.len(), used_dirs(&name).len(), "{}", out.stdout);
    assert_no_cgroup_left(&name);
}

#[test]
fn a_container_that_fails_to_start_leaves_no_cgroup() {
    vessel::require_root!();
    let name = unique("failed");
    let spec = ContainerSpec::new(rootfs::default_rootfs().unwrap(), ["/no/such/command"])
        .cgroup(CgroupSpec::new(&name, no_limits()));
    let error = Error::from(Container::spawn(&spec).unwrap_err());
    assert!(
        matches!(error, Error::Process(ProcessError::CommandNotFound { .. })),
        "{error}"
    );
    assert_no_cgroup_left(&name);
}

#[test]
fn a_bad_limit_creates_nothing() {
    vessel::require_root!();
    let name = unique("bad");
    let limits = Resources {
        cpuset_cpus: Some(vessel::cgroups::CpuSet([4095].into())),
        ..Resources::default()
    };
    let error = Container::spawn(&sh_limited(&name, "true", limits)).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--cpuset-cpus 4095: CPU 4095 does not exist")
    );
    assert_no_cgroup_left(&name);
}

#[test]
fn dropping_a_running_container_removes_its_cgroup() {
    vessel::require_root!();
    let name = unique("dropped");
    let stdin = Pipe::new().unwrap();
    let running = Container::spawn_with_stdio(
        &sh_limited(&name, "read x", no_limits()),
        Stdio {
            stdin: Some(stdin.read.as_fd()),
            ..Stdio::default()
        },
    )
    .unwrap();
    assert!(used_dirs(&name).iter().all(|d| d.exists()));
    drop(running);
    assert_no_cgroup_left(&name);
}

#[test]
fn freeze_stops_and_thaw_resumes() {
    vessel::require_root!();
    let name = unique("freeze");
    let stdout = Pipe::new().unwrap();
    let stdin = Pipe::new().unwrap();
    let mut running = Container::spawn_with_stdio(
        &sh_limited(&name, "echo ready; read x; echo after", no_limits()),
        Stdio {
            stdin: Some(stdin.read.as_fd()),
            stdout: Some(stdout.write.as_fd()),
            stderr: None,
        },
    )
    .unwrap();
    drop(stdout.write);
    let mut reader = BufReader::new(File::from(stdout.read));
    wait_for_line(&mut reader, "ready");
    let cgroup = running.cgroup().unwrap();
    cgroup.freeze().unwrap();
    // A frozen task stays parked in the freezer: end-of-file on its stdin cannot wake
    // it. The two freezers park it differently: v1 in the refrigerator, uninterruptibly
    // (state D); v2 in a job-control-like trap (state S, like a stopped task), and the
    // kernel says `frozen 1` in cgroup.events only while every task in it is parked.
    drop(stdin.write);
    let pid = running.pid();
    match detect(Path::new("/sys/fs/cgroup")).unwrap() {
        Version::V2 => {
            let events = cgroup.dirs()[0].join("cgroup.events");
            let events = std::fs::read_to_string(events).unwrap();
            assert!(events.contains("frozen 1"), "{events}; {}", state(pid));
        }
        Version::V1 | Version::Hybrid => assert!(state(pid).contains("D"), "{}", state(pid)),
    }
    cgroup.thaw().unwrap();
    wait_for_line(&mut reader, "after");
    assert_eq!(running.wait().unwrap(), ExitStatus::Exited(0));
    assert_no_cgroup_left(&name);
}

#[test]
fn kill_all_reaches_processes_outside_any_pid_namespace() {
    vessel::require_root!();
    let name = unique("killall");
    // Without a PID namespace, nothing kills the sleeps when the shell dies; only the
    // cgroup knows them all.
    let spec = sh_limited(
        &name,
        "sleep 1000 & sleep 1000 & echo ready; wait",
        no_limits(),
    );
    let namespaces = spec.namespaces.without(Namespace::Pid);
    let spec = spec.namespaces(namespaces);
    let stdout = Pipe::new().unwrap();
    let mut running = Container::spawn_with_stdio(
        &spec,
        Stdio {
            stdout: Some(stdout.write.as_fd()),
            ..Stdio::default()
        },
    )
    .unwrap();
    drop(stdout.write);
    wait_for_line(&mut BufReader::new(File::from(stdout.read)), "ready");
    let cgroup = running.cgroup().unwrap();
    assert_eq!(cgroup.stats().unwrap().pids, 3);
    cgroup.kill_all().unwrap();
    // No process is left in any hierarchy (pids.current would still count the
    // zombies until they are reaped, so ask cgroup.procs).
    for dir in cgroup.dirs() {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert_eq!(procs, "", "{}", dir.display());
    }
    assert_eq!(running.wait().unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    assert_no_cgroup_left(&name);
}
