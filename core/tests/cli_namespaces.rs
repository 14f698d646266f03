//! The namespace options of `vessel run` as a user types them: what each one changes
//! inside, and the messages for values that make no sense.

mod cli_support;

use std::process::{Command, Output};

use vessel::rootfs;
use vessel::test_support::mounts_under;

fn vessel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .expect("run vessel")
}

/// `vessel run --rootfs DEFAULT <options> -- sh -c SCRIPT`, checked to succeed.
fn run_sh(options: &[&str], script: &str) -> String {
    let rootfs = rootfs::default_rootfs().unwrap();
    let mut args = vec!["run", "--rootfs", rootfs.to_str().unwrap()];
    args.extend_from_slice(options);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    let before = mounts_under(&rootfs::default_rootfs().unwrap());
    let out = vessel(&args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mounts_under(&rootfs::default_rootfs().unwrap()), before);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn host_ns(name: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{name}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn network_none_shows_only_lo() {
    vessel::require_root!();
    let out = run_sh(&["--network", "none"], "cat /proc/net/dev");
    let devices: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(devices, ["lo"], "{out}");
}

#[test]
fn host_switches_share_the_hosts_namespaces() {
    vessel::require_root!();
    let out = run_sh(
        &[
            "--network",
            "host",
            "--ipc",
            "host",
            "--uts",
            "host",
            "--pid",
            "host",
        ],
        "for n in net ipc uts pid; do readlink /proc/self/ns/$n; done",
    );
    let expected: Vec<String> = ["net", "ipc", "uts", "pid"].map(host_ns).to_vec();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn the_ns_list_selects_exactly_those_namespaces() {
    vessel::require_root!();
    let out = run_sh(
        &["--ns", "mnt,pid,cgroup,time"],
        "for n in mnt pid cgroup time uts ipc net; do readlink /proc/self/ns/$n; done",
    );
    let lines: Vec<&str> = out.lines().collect();
    for (line, name) in lines.iter().zip(["mnt", "pid", "cgroup", "time"]) {
        assert_ne!(*line, host_ns(name), "{name} is new");
    }
    for (line, name) in lines[4..].iter().zip(["uts", "ipc", "net"]) {
        assert_eq!(*line, host_ns(name), "{name} is the host's");
    }
}

#[test]
fn userns_maps_root_and_time_offset_shifts_uptime() {
    vessel::require_root!();
    let out = run_sh(&["--userns=0:300000:1000"], "cat /proc/self/uid_map");
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "300000", "1000"]
    );
    let out = run_sh(&["--userns"], "cat /proc/self/gid_map");
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    let out = run_sh(&["--time-offset", "boottime=100d"], "cat /proc/uptime");
    let inside: f64 = out.split(' ').next().unwrap().parse().unwrap();
    assert!(inside > 100.0 * 86_400.0, "{out}");
}

#[test]
fn bad_namespace_options_say_what_to_use() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--ns", "mnt,bogus"],
            "\"bogus\": no such namespace (use mnt, uts, ipc, pid, net, user, cgroup, time)",
        ),
        (
            &["--network", "a/b"],
            "--network \"a/b\": not a mode or network name",
        ),
        (
            &["--userns=0:x:1"],
            "\"0:x:1\": OUTSIDE \"x\" is not a number",
        ),
        (
            &["--time-offset", "realtime=5"],
            "\"realtime\": no such namespaced clock (use monotonic or boottime)",
        ),
        (
            &["--time-offset", "monotonic=5y"],
            "\"5y\": not a number of seconds (use e.g. 90, 15m, 2h or -1d)",
        ),
    ];
    for (options, message) in cases {
        let mut args = vec!["run"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["--", "true"]);
        let out = vessel(&args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn a_hostname_without_its_own_uts_namespace_is_refused() {
    let out = vessel(&["run", "--uts", "host", "--hostname", "x", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a hostname needs its own UTS namespace"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn image_layers_in_a_user_namespace_run_as_root_and_are_refused_clearly_otherwise() {
    let out = vessel(&["run", "--rm", "--userns", "--image", "base", "--", "true"]);
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // The parent mounts the overlay, the child in its user namespace attaches it.
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "vessel: --image base: image layers in a user namespace need root to mount them \
         (run as root, or use --rootfs DIR)\n"
    );
}

#[test]
fn exec_t_without_a_terminal_is_refused() {
    vessel::require_root!();
    let run_dir = tempfile::tempdir().unwrap();
    let id = cli_support::start_sleeper(cli_support::vessel_in(run_dir.path()), &[]);
    let out = cli_support::vessel(run_dir.path(), &["exec", "-t", &id, "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("-t needs a terminal on stdin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cli_support::kill_and_wait(cli_support::vessel_in(run_dir.path()), run_dir.path(), &id);
}

#[test]
fn vessel_default_network_replaces_the_bridge_as_roots_default() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let list = |value: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vessel"));
        command.args(["run", "--rm", "--rootfs", rootfs.to_str().unwrap()]);
        command.args(["--", "ls", "/sys/class/net"]);
        match value {
            Some(value) => command.env("VESSEL_DEFAULT_NETWORK", value),
            None => command.env_remove("VESSEL_DEFAULT_NETWORK"),
        };
        let out = command.output().expect("run vessel");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // `none`: only lo; the default (bridge): eth0 too.
    assert_eq!(list(Some("none")), "lo\n");
    assert_eq!(list(None), "eth0\nlo\n");
}
