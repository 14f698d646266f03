//! podman driving an OCI runtime: every scenario runs twice, with runc (the control,
//! which must pass too) and with vessel. A scenario that fails only for vessel is
//! vessel's bug. The scenarios podman shares with dockerd are in
//! `vessel_clients::scenarios`; the two that only podman can run are here.

use vessel_clients::docker_cli::DockerCli;
use vessel_clients::podman::{IMAGE, Podman};
use vessel_clients::scenarios::{
    detached_exec_logs_stop_rm, exit_codes, hostname_and_pid_1, network_none, run_and_print,
    terminal_through_the_console_socket,
};

vessel_clients::each_runtime!(Podman::new =>
    run_and_print,
    exit_codes,
    hostname_and_pid_1,
    detached_exec_logs_stop_rm,
    memory_limit_in_the_cgroup,
    network_none,
    network_namespace_joined_by_path,
    terminal_through_the_console_socket,
    process_tree,
);

// ANCHOR: podman_tree
/// podman → conmon → the container: once `podman run -d` returns, the container's first
/// process is a child of conmon (its per-container monitor), and neither podman nor the
/// runtime is in its ancestry: both have exited.
fn process_tree(podman: &Podman) {
    let id = podman.ok(&["run", "-d", IMAGE, "sleep", "1000"]);
    let pid: i32 = podman
        .ok(&["inspect", "--format", "{{.State.Pid}}", id.trim()])
        .trim()
        .parse()
        .expect("podman inspect gives the container's pid");
    let chain = vessel_clients::process_tree::ancestry(pid).unwrap();
    eprintln!("{}", vessel_clients::process_tree::draw(&chain));
    let tree = vessel_clients::process_tree::draw(&chain);
    assert_eq!(chain[0].comm, "sleep", "{tree}");
    assert_eq!(
        chain[1].comm, "conmon",
        "the container's parent is conmon: {tree}"
    );
    let runtime = podman.runtime().file_name().unwrap().to_string_lossy();
    for ancestor in &chain[1..] {
        assert!(
            ancestor.comm != "podman",
            "podman is still an ancestor: {tree}"
        );
        assert!(
            ancestor.comm != runtime,
            "the runtime is still an ancestor: {tree}"
        );
    }
    podman.remove(id.trim());
}
// ANCHOR_END: podman_tree

fn memory_limit_in_the_cgroup(podman: &Podman) {
    vessel_clients::scenarios::memory_limit_in_the_cgroup(podman, &[]);
}

/// podman's own network for a container: a network namespace (made by the test, a
/// file under podman's work directory) joined by path, `--network ns:PATH`, which podman
/// writes as `linux.namespaces[network].path`. The container sees the address the test
/// gave that namespace and reaches a server listening there: all traffic stays inside.
fn network_namespace_joined_by_path(podman: &Podman) {
    let netns = podman.dir("netns");
    std::fs::write(&netns, "").unwrap();
    let status = std::process::Command::new("unshare")
        .arg(format!("--net={}", netns.display()))
        .arg("true")
        .status()
        .unwrap();
    assert!(status.success(), "unshare --net={}", netns.display());
    let in_netns = |args: &[&str]| {
        std::process::Command::new("nsenter")
            .arg(format!("--net={}", netns.display()))
            .args(args)
            .status()
            .unwrap()
    };
    assert!(in_netns(&["ip", "link", "set", "lo", "up"]).success());
    assert!(in_netns(&["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"]).success());
    let network = format!("ns:{}", netns.display());
    let out = podman.ok(&[
        "run",
        "--rm",
        "--network",
        &network,
        IMAGE,
        "ip",
        "-o",
        "addr",
        "show",
        "lo",
    ]);
    assert!(out.contains("10.77.0.1"), "{out}");
}
