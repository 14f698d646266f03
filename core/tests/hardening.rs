//! docker's filesystem defaults in every container: read-only `/proc/sys` and friends,
//! masked `/proc` and `/sys` paths, and `--read-only` with `--tmpfs`; `--privileged`
//! turns the first two off.
//!
//! Nothing here ever writes a host sysctl: the writability of `/proc/sys/kernel/core_pattern`
//! and `/proc/sysrq-trigger` is probed by *opening* them for writing in a subshell that
//! writes nothing, and only in default (hardened) containers.

use std::path::Path;
use std::process::{Command, Output};

use vessel::{ContainerSpec, rootfs};

fn sh(script: &str) -> ContainerSpec {
    ContainerSpec::new(
        rootfs::default_rootfs().expect("default rootfs"),
        ["/bin/sh", "-c", script],
    )
}

fn run(spec: &ContainerSpec) -> String {
    let out = vessel::output(spec).expect("container runs");
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout
}

/// A script line that prints `NAME writable` or `NAME refused` after trying to open
/// `path` for appending. The subshell only opens the file and exits: even where the open
/// succeeds, not one byte is written.
fn probe_open_for_writing(path: &str) -> String {
    format!(
        "if ( : >> {path} ) 2>/dev/null; then echo {path} writable; else echo {path} refused; fi; "
    )
}

#[test]
fn proc_sys_and_sysrq_trigger_cannot_even_be_opened_for_writing() {
    vessel::require_root!();
    let paths = ["/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger"];
    let script: String = paths.iter().map(|p| probe_open_for_writing(p)).collect();
    let out = run(&sh(&script));
    for path in paths {
        assert!(out.contains(&format!("{path} refused")), "{out}");
    }
    // The same mounts read-only, by mountinfo: /proc/sys, /proc/irq, /proc/bus, /proc/fs.
    let mounts = run(&sh("cut -d' ' -f5,6 /proc/self/mountinfo"));
    for path in [
        "/proc/sys",
        "/proc/sysrq-trigger",
        "/proc/irq",
        "/proc/bus",
        "/proc/fs",
    ] {
        if !Path::new(path).exists() {
            continue;
        }
        let line = mounts
            .lines()
            .find(|l| l.split(' ').next() == Some(path))
            .unwrap_or_else(|| panic!("{path} is not a mount of its own: {mounts}"));
        assert!(line.contains(" ro,"), "{line}");
    }
}

#[test]
fn masked_paths_read_empty() {
    vessel::require_root!();
    let files = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ];
    let dirs = ["/sys/firmware", "/proc/acpi", "/proc/scsi"];
    let files: Vec<&str> = files
        .into_iter()
        .filter(|p| Path::new(p).exists())
        .collect();
    let dirs: Vec<&str> = dirs.into_iter().filter(|p| Path::new(p).exists()).collect();
    // Not vacuous: every kernel has some of each (here /proc/keys, /sys/firmware, …).
    assert!(!files.is_empty() && !dirs.is_empty());
    let mut script = String::new();
    for file in &files {
        // Readable and empty, as /dev/null reads: not merely unreadable.
        script.push_str(&format!(
            "if cat {file} >/dev/null; then echo {file} $(cat {file} | wc -c); else echo {file} unreadable; fi; "
        ));
    }
    for dir in &dirs {
        script.push_str(&format!("echo {dir} $(ls -A {dir} | wc -l); "));
    }
    let out = run(&sh(&script));
    for path in files.iter().chain(&dirs) {
        assert!(
            out.lines().any(|l| l == format!("{path} 0")),
            "{path} not empty: {out}"
        );
    }
}

#[test]
fn privileged_lifts_the_masks_and_read_only_paths() {
    vessel::require_root!();
    let privileged = sh("cut -d' ' -f5 /proc/self/mountinfo")
        .capabilities(None)
        .without_path_hardening();
    let mounts = run(&privileged);
    for path in ["/proc/sys", "/proc/kcore", "/sys/firmware"] {
        assert!(
            !mounts.lines().any(|l| l == path),
            "{path} still covered: {mounts}"
        );
    }
    // Through the CLI too: --privileged says it, and does it.
    let cli = vessel_cli(&[
        "run",
        "--rm",
        "--privileged",
        "--",
        "cut",
        "-d ",
        "-f5",
        "/proc/self/mountinfo",
    ]);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    assert!(!text(&cli.stdout).lines().any(|l| l == "/proc/sys"));
    let help = text(&vessel_cli(&["run", "--help"]).stdout);
    assert!(
        help.contains("/proc/sys"),
        "--privileged --help must say it unmasks: {help}"
    );
}

#[test]
fn read_only_root_is_unwritable_except_where_a_tmpfs_or_dev_is_mounted() {
    vessel::require_root!();
    let script = "touch /probe 2>/dev/null && echo root writable || echo root refused; \
        touch /run/probe && echo run writable; \
        touch /dev/shm/probe && echo shm writable; \
        grep ' /run ' /proc/self/mountinfo | cut -d' ' -f6; stat -c %a /run";
    let out = vessel_cli(&[
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/run:size=1m,mode=1777",
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(
        text(&out.stdout),
        "root refused\nrun writable\nshm writable\nrw,nosuid,nodev,noexec,relatime\n1777\n",
        "{}",
        text(&out.stderr)
    );
    // The overlay root: read-only too, and nothing lands in the writable layer.
    let dir = tempfile::tempdir().unwrap();
    let sub = |name: &str| {
        let p = dir.path().join(name);
        std::fs::create_dir(&p).unwrap();
        p
    };
    let (upper, work, merged) = (sub("upper"), sub("work"), sub("merged"));
    let spec = ContainerSpec::new(
        &merged,
        [
            "/bin/sh",
            "-c",
            "touch /probe; echo $?; touch /tmp/x; echo $?",
        ],
    )
    .overlay(vessel::layers::OverlayRootfs {
        lowers: vec![rootfs::default_rootfs().unwrap()],
        upper: upper.clone(),
        work,
    })
    .read_only_root(true);
    let out = vessel::output(&spec).unwrap();
    assert_eq!(out.stdout, "1\n1\n", "{}", out.stderr);
    assert!(!upper.join("probe").exists() && !upper.join("tmp/x").exists());
}

#[test]
fn a_bad_tmpfs_option_is_refused_with_docker_exit_code_125() {
    vessel::require_root!();
    for (spec, expected) in [
        ("/run:bogus", "unknown option \"bogus\""),
        ("/run:size=lots", "size=\"lots\" is not valid"),
        ("run", "is not absolute"),
    ] {
        let out = vessel_cli(&["run", "--rm", "--tmpfs", spec, "--", "true"]);
        assert_eq!(
            out.status.code(),
            Some(125),
            "{spec}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(expected),
            "{spec}: {}",
            text(&out.stderr)
        );
    }
}

fn vessel_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
