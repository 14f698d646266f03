//! containerd 1.6 (`ctr run` → containerd → containerd-shim-runc-v2 → the runtime):
//! every scenario with runc (the control) and with vessel.

use std::path::Path;

use vessel_clients::containerd::Containerd;

vessel_clients::each_runtime!(Containerd::new =>
    run_and_print,
    exit_codes_and_pid_1,
    detached_exec_kill_rm,
    memory_limit_in_the_cgroup,
    network_none_and_joined_by_path,
    process_tree,
);

// ANCHOR: containerd_tree
/// containerd → shim → the container, except that the shim is no child of containerd: it
/// daemonizes (so containerd can restart without killing containers) and becomes the
/// container's parent and subreaper. The runtime has exited after `create` and `start`.
fn process_tree(ctr: &Containerd) {
    let out = ctr.run("tree", &["-d"], &["sleep", "1000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tasks = ctr.ok(&["tasks", "ls"]);
    let pid: i32 = tasks
        .lines()
        .find(|l| l.starts_with("tree "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid for task tree in {tasks}"));
    let chain = vessel_clients::process_tree::ancestry(pid).unwrap();
    let tree = vessel_clients::process_tree::draw(&chain);
    eprintln!("{tree}");
    assert_eq!(chain[0].comm, "sleep", "{tree}");
    // comm is cut at 15 bytes: "containerd-shim-runc-v2" shows as "containerd-shim".
    assert!(
        chain[1].cmdline.contains("containerd-shim-runc-v2"),
        "the container's parent is the shim: {tree}"
    );
    assert!(
        chain[1..].iter().all(|p| p.comm != "containerd"),
        "containerd is an ancestor of the shim: {tree}"
    );
    ctr.ok(&["tasks", "kill", "--signal", "SIGKILL", "tree"]);
    vessel::state::process::wait_until_gone_within(pid, Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let _ = ctr.ctr(&["tasks", "delete", "tree"]);
    ctr.ok(&["containers", "delete", "tree"]);
}
// ANCHOR_END: containerd_tree

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_and_print(ctr: &Containerd) {
    let out = ctr.run("hello", &["--rm"], &["echo", "hi"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
}

fn exit_codes_and_pid_1(ctr: &Containerd) {
    let out = ctr.run("three", &["--rm"], &["sh", "-c", "echo $$; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1\n");
}

fn detached_exec_kill_rm(ctr: &Containerd) {
    let out = ctr.run("bg", &["-d"], &["sleep", "1000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tasks = ctr.ok(&["tasks", "ls"]);
    assert!(
        tasks
            .lines()
            .any(|l| l.starts_with("bg ") && l.contains("RUNNING")),
        "{tasks}"
    );
    let exec = ctr.ctr(&[
        "tasks",
        "exec",
        "--exec-id",
        "e1",
        "bg",
        "sh",
        "-c",
        "echo in; exit 5",
    ]);
    assert_eq!(exec.status.code(), Some(5), "{}", text(&exec.stderr));
    assert_eq!(text(&exec.stdout), "in\n");
    ctr.ok(&["tasks", "kill", "--signal", "SIGKILL", "bg"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ctr
        .ok(&["tasks", "ls"])
        .lines()
        .any(|l| l.starts_with("bg ") && l.contains("STOPPED"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the task did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    ctr.ok(&["tasks", "delete", "bg"]);
    ctr.ok(&["containers", "delete", "bg"]);
    assert!(!ctr.ok(&["containers", "ls", "--quiet"]).contains("bg"));
}

fn memory_limit_in_the_cgroup(ctr: &Containerd) {
    let out = ctr.run(
        "mem",
        &["-d", "--memory-limit", "67108864"],
        &["sleep", "1000"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pids = ctr.ok(&["tasks", "ps", "mem"]);
    let pid = pids
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap();
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let memory = cgroups
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()))
        .unwrap();
    assert!(
        Path::new(&memory).starts_with(ctr.cgroup_parent()),
        "{memory}"
    );
    let limit = std::fs::read_to_string(
        Path::new("/sys/fs/cgroup/memory")
            .join(memory.trim_start_matches('/'))
            .join("memory.limit_in_bytes"),
    )
    .unwrap();
    assert_eq!(limit.trim(), "67108864");
    ctr.ok(&["tasks", "kill", "--signal", "SIGKILL", "mem"]);
}

fn network_none_and_joined_by_path(ctr: &Containerd) {
    let out = ctr.run("nonet", &["--rm"], &["cat", "/proc/net/dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let devices: Vec<String> = text(&out.stdout)
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|d| d.trim().to_owned()))
        .collect();
    assert_eq!(devices, ["lo"]);
    let netns = ctr.dir("netns");
    std::fs::write(&netns, "").unwrap();
    assert!(
        std::process::Command::new("unshare")
            .arg(format!("--net={}", netns.display()))
            .arg("true")
            .status()
            .unwrap()
            .success()
    );
    let nsenter = |args: &[&str]| {
        std::process::Command::new("nsenter")
            .arg(format!("--net={}", netns.display()))
            .args(args)
            .status()
            .unwrap()
    };
    assert!(nsenter(&["ip", "addr", "add", "10.78.0.1/32", "dev", "lo"]).success());
    let with_ns = format!("network:{}", netns.display());
    let out = ctr.run(
        "joined",
        &["--rm", "--with-ns", &with_ns],
        &["ip", "-o", "addr", "show", "lo"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("10.78.0.1"),
        "{}",
        text(&out.stdout)
    );
}
