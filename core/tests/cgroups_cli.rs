//! `vessel run`'s cgroup options as a user meets them: an OOM kill reported as one with
//! exit 137, `--stats --json` for machines, and bad values refused before anything exists.

use std::path::PathBuf;
use std::process::{Command, Output};

use vessel::cgroups::Layout;

fn vessel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .expect("run vessel")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Our own cgroup directory in every hierarchy.
fn own_dirs() -> Vec<PathBuf> {
    match Layout::of_this_process().unwrap() {
        Layout::V1(h) => h.into_iter().map(|h| h.own).collect(),
        Layout::V2 { own, .. } => vec![own],
    }
}

/// Runs, with `cgroup` options, a shell that fills a 32 MiB limit, and checks the OOM
/// kill is reported as one: exit 137 and the message.
fn assert_oom_reported(cgroup: &[&str]) {
    let mut args = vec!["run", "--rm", "-m", "32m"];
    args.extend(cgroup);
    args.extend([
        "--",
        "sh",
        "-c",
        r#"x=$(head -c 100000000 /dev/zero | tr "\0" a)"#,
    ]);
    let out = vessel(&args);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("vessel: the container was OOM-killed"),
        "{}",
        stderr(&out)
    );
}

/// In vessel's default place, without `--stats`, the container's cgroup has only the
/// hierarchies it uses and only the OOM count is read after the exit: the report stands.
#[test]
fn an_oom_kill_without_stats_is_reported_in_the_default_place_too() {
    vessel::require_root!();
    assert_oom_reported(&[]);
}

#[test]
fn an_oom_kill_is_reported_and_exits_137() {
    vessel::require_root!();
    let parent = format!("cli-oom-{}", std::process::id());
    assert_oom_reported(&["--cgroup-parent", &parent]);
    // vessel made <own>/<parent>/<id> and removed both again.
    for own in own_dirs() {
        assert!(
            !own.join(&parent).exists(),
            "{} left",
            own.join(&parent).display()
        );
    }
}

#[test]
fn stats_json_carries_the_counters() {
    vessel::require_root!();
    let out = vessel(&[
        "run",
        "--rm",
        "--stats",
        "--json",
        "--pids-limit",
        "4",
        "--",
        "sh",
        "-c",
        "sleep 1 & sleep 1 & sleep 1 & sleep 1 & wait",
    ]);
    let text = stderr(&out);
    // busybox sh gives up on the failed fork with status 2.
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("can't fork"), "{text}");
    let json = text.lines().last().unwrap();
    let stats: serde_json::Value = serde_json::from_str(json).expect("the last line is JSON");
    assert!(stats["pids_limit_hits"].as_u64().unwrap() >= 1, "{json}");
    assert_eq!(stats["oom_kills"], 0, "{json}");
}

#[test]
fn bad_values_are_refused_and_create_nothing() {
    vessel::require_root!();
    let parent = format!("cli-bad-{}", std::process::id());
    let cases: [(&[&str], &str); 5] = [
        (
            &["-m", "64q"],
            r#"vessel: --memory 64q: unknown unit "q" (use b, k, m or g)"#,
        ),
        (&["--cpus", "0"], "vessel: --cpus 0: must be more than 0"),
        (
            &["--cpus", "99"],
            "vessel: --cpus 99: more than this machine's",
        ),
        (
            &["--cpuset-cpus", "4095"],
            "vessel: --cpuset-cpus 4095: CPU 4095 does not exist here",
        ),
        (
            &["--cpu-period", "1000"],
            "vessel: --cpu-period 1000: needs --cpu-quota",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["run", "--rm", "--cgroup-parent", &parent];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "true"]);
        let out = vessel(&args);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(message),
            "{flags:?}: {}",
            stderr(&out)
        );
        for own in own_dirs() {
            assert!(
                !own.join(&parent).exists(),
                "{flags:?} created {}",
                own.join(&parent).display()
            );
        }
    }
}
