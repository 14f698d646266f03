//! Each cgroup limit, enforced by the real kernel on a real container, and each counter
//! moving. Every test ends by checking that its cgroup directories are gone.

mod cgroups_support;

use std::os::fd::AsFd;

use cgroups_support::{assert_no_cgroup_left, sh_limited, unique};
use vessel::cgroups::{CpuQuota, CpuSet, Resources};
use vessel::process::pipe::Pipe;
use vessel::{Container, ExitStatus, Stdio};

#[test]
fn memory_over_the_limit_is_oom_killed_and_counted() {
    vessel::require_root!();
    let name = unique("oom");
    // The shell keeps all 100 MB of the substitution in its own memory.
    let script = r#"x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived"#;
    let limits = Resources {
        memory_bytes: Some(32 << 20),
        ..Resources::default()
    };
    let out = vessel::output(&sh_limited(&name, script, limits)).unwrap();
    let stats = out.stats.expect("a container with a cgroup has stats");
    assert!(stats.oom_kills >= 1, "{stats:?}");
    // (memory_limit_hits is not checked: with swap turned off through memsw, Linux 6.x
    // keeps no failcnt for the memsw counter, which is the one that fails.)
    let peak = stats
        .memory_peak_bytes
        .expect("v1 and Linux 5.19+ keep the peak");
    assert!(peak <= 32 << 20, "peak {peak} above the 32 MiB limit");
    assert!(
        peak > 16 << 20,
        "peak {peak}: the container never got near its limit"
    );
    assert!(!out.stdout.contains("survived"));
    assert_no_cgroup_left(&name);
}

#[test]
fn memory_under_the_limit_is_untouched() {
    vessel::require_root!();
    let name = unique("mem-ok");
    let limits = Resources {
        memory_bytes: Some(64 << 20),
        ..Resources::default()
    };
    let out = vessel::output(&sh_limited(
        &name,
        "head -c 1000000 /dev/zero | wc -c",
        limits,
    ))
    .unwrap();
    assert_eq!(out.status, ExitStatus::Exited(0), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "1000000");
    let stats = out.stats.unwrap();
    assert_eq!(stats.oom_kills, 0);
    assert!(stats.memory_peak_bytes.unwrap() > 0, "{stats:?}");
    assert_no_cgroup_left(&name);
}

#[test]
fn the_pids_limit_stops_forks_and_counts_them() {
    vessel::require_root!();
    let name = unique("pids");
    // An inner shell starts 20 background sleeps against a limit of 8. Its failed fork
    // ("can't fork", EAGAIN) ends it; the outer shell, PID 1, goes on and reports.
    let script = "sh -c 'for i in $(seq 20); do sleep 1000 & done'; echo inner exited $?";
    let limits = Resources {
        pids_max: Some(8),
        ..Resources::default()
    };
    let out = vessel::output(&sh_limited(&name, script, limits)).unwrap();
    assert!(out.stderr.contains("can't fork"), "{}", out.stderr);
    assert_eq!(out.stdout, "inner exited 2\n");
    let stats = out.stats.unwrap();
    assert!(stats.pids_limit_hits >= 1, "{stats:?}");
    if let Some(peak) = stats.pids_peak {
        assert_eq!(peak, 8, "{stats:?}");
    }
    assert_no_cgroup_left(&name);
}

#[test]
fn a_cpu_quota_throttles_a_busy_loop() {
    vessel::require_root!();
    let name = unique("cpu");
    let limits = Resources {
        cpu_quota: Some(CpuQuota::per_default_period(20_000)),
        ..Resources::default()
    };
    // busybox `timeout` ends the loop after 1 s of wall time.
    let spec = sh_limited(&name, "timeout 1 sh -c 'while :; do :; done'; true", limits);
    let out = vessel::output(&spec).unwrap();
    assert_eq!(out.status, ExitStatus::Exited(0), "{}", out.stderr);
    let stats = out.stats.unwrap();
    assert!(stats.cpu_throttled_periods > 0, "{stats:?}");
    assert!(stats.cpu_throttled_ns > 0, "{stats:?}");
    // A free busy loop would use ~1 s; at 20% the cgroup's own accounting stays far below.
    assert!(stats.cpu_usage_ns < 500_000_000, "{stats:?}");
    assert!(
        stats.cpu_usage_ns > 50_000_000,
        "the loop hardly ran: {stats:?}"
    );
    assert_no_cgroup_left(&name);
}

#[test]
fn a_cpuset_pins_the_container() {
    vessel::require_root!();
    let name = unique("cpuset");
    let online = vessel::cgroups::online_cpus().unwrap();
    let last = *online.0.iter().last().unwrap();
    let limits = Resources {
        cpuset_cpus: Some(CpuSet([last].into())),
        ..Resources::default()
    };
    let spec = sh_limited(&name, "grep Cpus_allowed_list /proc/self/status", limits);
    let out = vessel::output(&spec).unwrap();
    assert_eq!(
        out.stdout,
        format!("Cpus_allowed_list:\t{last}\n"),
        "{}",
        out.stderr
    );
    assert_no_cgroup_left(&name);
}

#[test]
fn cpu_shares_reach_the_kernel() {
    vessel::require_root!();
    let name = unique("shares");
    let limits = Resources {
        cpu_shares: Some(512),
        ..Resources::default()
    };
    let spec = sh_limited(&name, "read x", limits);
    let stdin = Pipe::new().unwrap();
    let mut running = Container::spawn_with_stdio(
        &spec,
        Stdio {
            stdin: Some(stdin.read.as_fd()),
            ..Stdio::default()
        },
    )
    .unwrap();
    let cgroup = running.cgroup().unwrap();
    let (file, expected) = match cgroup.manager() {
        vessel::cgroups::CgroupManager::V1(_) => ("cpu.shares", "512"),
        vessel::cgroups::CgroupManager::V2(_) => ("cpu.weight", "20"),
    };
    let dir = cgroup.dir_of("cpu").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join(file)).unwrap().trim(),
        expected
    );
    // The container's process really is in that cgroup.
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    assert_eq!(procs.trim(), running.pid().to_string());
    drop(stdin.write);
    running.wait().unwrap();
    assert_no_cgroup_left(&name);
}
