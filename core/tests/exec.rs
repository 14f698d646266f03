//! Joining a running container: the library's `Tenant` (inodes match the container's,
//! not the host's), and the CLI's `run -d` → `exec` → `kill` with its state records.

use std::fs::File;
use std::os::fd::AsFd;

use vessel::cgroups::{CgroupSpec, Resources};
use vessel::namespaces::user::IdMapping;
use vessel::process::pipe::Pipe;
use vessel::process::tenant::Tenant;
use vessel::state::{StateDir, Status};
use vessel::test_support::{BOUND, HeldContainer, mounts_under, read_within};
use vessel::{ContainerSpec, Namespace, Namespaces, Stdio, rootfs};

mod cli_support;
use cli_support::{kill_and_wait, start_sleeper, text, vessel, vessel_in};

/// Starts `spec`, whose shell prints `up` once running (so all its namespaces exist
/// before anyone joins them) and then waits for its stdin to close.
fn start_waiting(spec: ContainerSpec) -> HeldContainer {
    let mut container = HeldContainer::start(&spec).unwrap();
    assert_eq!(container.next_line().unwrap(), "up");
    container
}

/// Lets a waiting container exit and checks it exited cleanly.
fn finish(container: HeldContainer) {
    assert!(container.release().unwrap().success());
}

fn waiting_spec() -> ContainerSpec {
    ContainerSpec::new(
        rootfs::default_rootfs().unwrap(),
        ["/bin/sh", "-c", "echo up; read _; exit 0"],
    )
}

/// Runs `script` in the container through a tenant and returns its stdout.
fn exec_output(tenant: &Tenant, script: &str) -> (String, vessel::ExitStatus) {
    let out = Pipe::new().unwrap();
    let null = File::open("/dev/null").unwrap();
    let mut running = tenant
        .spawn_with_stdio(
            &ContainerSpec::new("/", ["/bin/sh", "-c", script]),
            Stdio {
                stdin: Some(null.as_fd()),
                stdout: Some(out.write.as_fd()),
                stderr: None,
            },
        )
        .unwrap();
    drop(out.write);
    let text = std::io::read_to_string(File::from(out.read)).unwrap();
    (text, running.wait().unwrap())
}

fn ns_links(pid: &str, names: &[Namespace]) -> Vec<String> {
    names
        .iter()
        .map(|ns| {
            std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn check_joined(spec: ContainerSpec) {
    let names: Vec<Namespace> = Namespace::ALL.to_vec();
    let container = start_waiting(spec);
    let pid = container.running().pid();
    let tenant = Tenant::of_pid(pid).unwrap();
    let script = names
        .iter()
        .map(|ns| format!("readlink /proc/self/ns/{ns};"))
        .collect::<String>()
        + "echo $$; id -u; cat /proc/self/cgroup";
    let (text, status) = exec_output(&tenant, &script);
    assert!(status.success(), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let container_links = ns_links(&pid.to_string(), &names);
    assert_eq!(
        lines[..names.len()],
        container_links,
        "exec joined every namespace"
    );
    // In the container's PID namespace: not 1 (that is the container's first process),
    // a small number there.
    let exec_pid: u32 = lines[names.len()].parse().unwrap();
    assert!(exec_pid > 1, "{exec_pid}");
    assert_eq!(lines[names.len() + 1], "0", "root inside");
    // The same cgroups, as the container sees them (through its cgroup namespace, if any).
    let (container_cgroups, _) = exec_output(&tenant, "cat /proc/1/cgroup");
    assert_eq!(
        lines[names.len() + 2..].join("\n") + "\n",
        container_cgroups
    );
    finish(container);
}

#[test]
fn exec_joins_every_namespace_of_the_container() {
    vessel::require_root!();
    let before = mounts_under(&rootfs::default_rootfs().unwrap());
    let all_but_user: Namespaces = Namespace::ALL
        .into_iter()
        .filter(|ns| *ns != Namespace::User)
        .collect();
    let cgroup = CgroupSpec::new(
        format!("exec-test-{}", std::process::id()),
        Resources::default(),
    );
    check_joined(waiting_spec().namespaces(all_but_user).cgroup(cgroup));
    assert_eq!(mounts_under(&rootfs::default_rootfs().unwrap()), before);
}

#[test]
fn exec_joins_a_container_with_a_user_namespace() {
    vessel::require_root!();
    check_joined(
        waiting_spec()
            .namespaces(Namespaces::container_default().with(Namespace::Network))
            .id_mapping(IdMapping::shifted(300_000, 65_536)),
    );
}

#[test]
fn exec_exit_codes_and_missing_commands_pass_through() {
    vessel::require_root!();
    let container = start_waiting(waiting_spec());
    let tenant = Tenant::of_pid(container.running().pid()).unwrap();
    let (_, status) = exec_output(&tenant, "exit 7");
    assert_eq!(status.code(), 7);
    let error = vessel::Error::from(
        tenant
            .spawn(&ContainerSpec::new("/", ["no-such-command"]))
            .unwrap_err(),
    );
    assert_eq!(error.exit_code(), 127, "{error}");
    finish(container);
}

#[test]
fn spawn_with_terminal_gives_a_pty_of_the_containers_devpts_and_its_master() {
    vessel::require_root!();
    let container = start_waiting(waiting_spec());
    let tenant = Tenant::of_pid(container.running().pid()).unwrap();
    let script = "tty; stty size; exit 3";
    let (mut command, master) = tenant
        .spawn_with_terminal(
            &ContainerSpec::new("/", ["/bin/sh", "-c", script]),
            (12, 34),
        )
        .unwrap();
    let mut seen = Vec::new();
    // The command holds the only slave: reading the master ends (EIO) once it exits.
    read_within(&mut File::from(master), &mut seen, BOUND, |_| false).unwrap();
    let seen = text(&seen);
    assert_eq!(command.wait().unwrap().code(), 3, "{seen}");
    let lines: Vec<&str> = seen.lines().map(str::trim).collect();
    assert_eq!(lines, ["/dev/pts/0", "12 34"], "{seen}");
    finish(container);
}

#[test]
fn exec_into_a_container_that_exited_is_refused_clearly() {
    vessel::require_root!();
    let container = start_waiting(waiting_spec());
    let tenant = Tenant::of_pid(container.running().pid()).unwrap();
    finish(container);
    let error = tenant
        .spawn(&ContainerSpec::new("/", ["true"]))
        .unwrap_err();
    let message = vessel::cli::error_chain(&error);
    assert!(message.contains("is not running"), "{message}");
    assert!(message.contains("has exited"), "{message}");
}

// ---- the CLI: run -d, exec, kill, and the records they leave --------------------------

#[test]
fn run_detached_then_exec_ps_shows_both_processes_then_kill_records_the_exit() {
    vessel::require_root!();
    let run_dir = tempfile::tempdir().unwrap();
    let id = start_sleeper(vessel_in(run_dir.path()), &["--name", "sleeper"]);
    assert!(
        id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );

    let store = StateDir::at(run_dir.path()).unwrap();
    let record = store.load(&id.parse().unwrap()).unwrap();
    assert_eq!(record.status, Status::Running);
    assert_eq!(record.name.as_deref(), Some("sleeper"));
    assert!(record.is_running());

    let ps = vessel(
        run_dir.path(),
        &["exec", "sleeper", "--", "ps", "-o", "pid,args"],
    );
    assert!(ps.status.success(), "{}", text(&ps.stderr));
    let listing = text(&ps.stdout);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..2], ["1", "sleep"], "{listing}");
    assert_eq!(
        rows.len(),
        2,
        "the container's sleep and exec's ps: {listing}"
    );
    assert_eq!(rows[1][1], "ps", "{listing}");

    let code = vessel(
        run_dir.path(),
        &["exec", &id[..6], "--", "sh", "-c", "exit 9"],
    );
    assert_eq!(code.status.code(), Some(9));

    let record = kill_and_wait(vessel_in(run_dir.path()), run_dir.path(), &id);
    assert_eq!(record.status, Status::Exited);
    assert_eq!(record.exit_code, Some(137));
    assert!(record.finished.is_some());

    let late = vessel(run_dir.path(), &["exec", "sleeper", "--", "true"]);
    assert_eq!(late.status.code(), Some(125));
    assert_eq!(
        text(&late.stderr),
        format!(
            "vessel: container {id} is not running (exited with code 137); start a new one with `vessel run -d`\n"
        )
    );
    let again = vessel(run_dir.path(), &["kill", "sleeper"]);
    assert_eq!(again.status.code(), Some(125));
    store.remove(&id.parse().unwrap()).unwrap();
}

#[test]
fn a_detached_start_that_fails_leaves_no_record() {
    vessel::require_root!();
    let run_dir = tempfile::tempdir().unwrap();
    let rootfs = rootfs::default_rootfs().unwrap();
    let out = vessel(
        run_dir.path(),
        &[
            "run",
            "-d",
            "--rootfs",
            rootfs.to_str().unwrap(),
            "--",
            "no-such-command",
        ],
    );
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("command not found"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).is_empty());
    let store = StateDir::at(run_dir.path()).unwrap();
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn unknown_containers_and_signals_get_clear_errors() {
    let run_dir = tempfile::tempdir().unwrap();
    let out = vessel(run_dir.path(), &["exec", "nope", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        text(&out.stderr),
        "vessel: no container \"nope\" (see `vessel ps -a` for ids and names)\n"
    );
    let bad = vessel(run_dir.path(), &["kill", "-s", "NOPE", "x"]);
    assert_eq!(bad.status.code(), Some(125));
    assert!(
        text(&bad.stderr).contains("no such signal"),
        "{}",
        text(&bad.stderr)
    );
}
