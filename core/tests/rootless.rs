//! Rootless: `vessel run` started by an ordinary user. The test creates a throw-away
//! user, runs the real `vessel` binary as that user, and removes the user afterwards.

mod cli_support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use vessel::rootfs;
use vessel::test_support::mounts_under;

/// A user that exists for the length of one test.
struct ThrowAwayUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl ThrowAwayUser {
    /// `tag` tells apart the users of tests running at the same time.
    fn create(tag: &str) -> ThrowAwayUser {
        let name = format!("vsl{}{tag}", std::process::id());
        let status = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", &name])
            .status()
            .expect("run useradd");
        assert!(status.success(), "useradd {name}");
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        ThrowAwayUser { name, uid, gid }
    }

    fn vessel(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env_remove("VESSEL_RUN_DIR")
            .uid(self.uid)
            .gid(self.gid)
            .output()
            .expect("run vessel as the throw-away user")
    }
}

impl Drop for ThrowAwayUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_ordinary_user_gets_root_inside_mapped_to_itself_with_full_isolation() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let user = ThrowAwayUser::create("a");
    let before = mounts_under(&rootfs::default_rootfs().unwrap());
    let out = user.vessel(&[
        "run",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; echo $$; hostname; \
         for n in user mnt uts ipc pid; do readlink /proc/self/ns/$n; done",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "0", "root inside: {stdout}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", &user.uid.to_string(), "1"],
        "container root is the user, nothing else is mapped"
    );
    assert_eq!(lines[2], "1", "PID 1 of its own PID namespace");
    assert_eq!(lines[3].len(), 12, "its own hostname: {stdout}");
    for (line, ns) in lines[4..].iter().zip(["user", "mnt", "uts", "ipc", "pid"]) {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_ne!(*line, host.to_str().unwrap(), "{ns} is new");
    }
    assert_eq!(mounts_under(&rootfs::default_rootfs().unwrap()), before);
}

#[test]
fn an_ordinary_user_without_a_delegated_cgroup_is_told_why_limits_are_refused() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let user = ThrowAwayUser::create("b");
    let out = user.vessel(&[
        "run",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "--memory",
        "64m",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("running rootless") && stderr.contains("is not delegated to you"),
        "{stderr}"
    );
}

#[test]
fn an_ordinary_user_can_run_detached_exec_and_kill() {
    vessel::require_root!();
    let user = ThrowAwayUser::create("c");
    let run_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(run_dir.path(), Some(user.uid), Some(user.gid)).unwrap();
    let as_user = || {
        let mut command = cli_support::vessel_in(run_dir.path());
        command.uid(user.uid).gid(user.gid);
        command
    };
    let id = cli_support::start_sleeper(as_user(), &[]);
    let exec = as_user()
        .args([
            "exec",
            &id,
            "--",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map; echo $$",
        ])
        .output()
        .unwrap();
    assert!(exec.status.success(), "{}", text(&exec.stderr));
    let out = text(&exec.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", &user.uid.to_string(), "1"]
    );
    assert_ne!(
        lines[2], "1",
        "exec is a second process in the container's PID namespace"
    );
    let record = cli_support::kill_and_wait(as_user(), run_dir.path(), &id);
    assert_eq!(record.exit_code, Some(137));
}
