//! On a *hybrid* host (v1 controllers plus an empty unified hierarchy), a container
//! that needs no controller — no limits, no `--stats` — gets its cgroup in the unified
//! hierarchy only, where its child is born with `CLONE_INTO_CGROUP` instead of being
//! moved into v1 cgroups (a write that costs the kernel 12–25 ms). Its device rules, the
//! freezer, `exec`, `rm -f` and the clean-up must all work there; a container with a
//! limit keeps its v1 cgroups. (On a pure v1 or v2 host there is nothing to test here.)

mod cli_support;

use std::path::{Path, PathBuf};

use cli_support::{start_sleeper, text, vessel, vessel_in};
use vessel::cgroups::{CgroupSpec, Frozen, Layout, Resources, Version, detect};
use vessel::state::StateDir;

fn hybrid() -> bool {
    match detect(Path::new("/sys/fs/cgroup")).unwrap() {
        Version::Hybrid => true,
        other => {
            eprintln!("skipped: this host is {other:?}, not hybrid");
            false
        }
    }
}

/// `(CONTROLLERS, PATH)` of each line of `/proc/PID/cgroup`, read from the host.
fn cgroups_of(pid: i32) -> Vec<(String, String)> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next();
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every directory a container `id` could have: vessel's place in each v1 hierarchy
/// and in the unified one.
fn every_possible_dir(id: &str) -> Vec<PathBuf> {
    let spec = CgroupSpec::new(id, Resources::default());
    let mut dirs = spec.dirs_in(&Layout::of_this_process().unwrap());
    dirs.extend(spec.dirs_in(&Layout::for_container(false).unwrap()));
    dirs
}

fn assert_nothing_left(id: &str) {
    for dir in every_possible_dir(id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

#[test]
fn a_default_container_lives_in_the_unified_hierarchy_only() {
    vessel::require_root!();
    if !hybrid() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let id = start_sleeper(vessel_in(tmp.path()), &[]);
    let record = StateDir::at(tmp.path())
        .unwrap()
        .load(&id.parse().unwrap())
        .unwrap();
    let suffix = format!("/vessel/{id}");

    // Born in its unified cgroup, and in none of vessel's v1 cgroups.
    let lines = cgroups_of(record.pid);
    let unified = &lines.iter().find(|(c, _)| c.is_empty()).unwrap().1;
    assert!(unified.ends_with(&suffix), "{lines:?}");
    for (controllers, path) in lines.iter().filter(|(c, _)| !c.is_empty()) {
        assert!(!path.contains("/vessel/"), "{controllers} is {path}");
    }
    assert_eq!(record.cgroup_dirs.len(), 1, "{:?}", record.cgroup_dirs);
    let dir = &record.cgroup_dirs[0];
    assert!(dir.starts_with("/sys/fs/cgroup/unified") && dir.ends_with(&id));

    // exec joins it.
    let exec = vessel(tmp.path(), &["exec", &id, "cat", "/proc/self/cgroup"]);
    assert_eq!(exec.status.code(), Some(0), "{}", text(&exec.stderr));
    let joined = text(&exec.stdout);
    assert!(
        joined
            .lines()
            .any(|l| l.starts_with("0::") && l.ends_with(&suffix)),
        "{joined}"
    );

    // commit's freezer freezes it (cgroup.freeze, no controller needed) and thaws it.
    let frozen = Frozen::freeze(&record.cgroup_dirs)
        .unwrap()
        .expect("a freezer");
    let events = || std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert!(events().contains("frozen 1"), "{}", events());
    frozen.thaw().unwrap();
    assert!(events().contains("frozen 0"), "{}", events());

    let removed = vessel(tmp.path(), &["rm", "-f", &id]);
    assert_eq!(removed.status.code(), Some(0), "{}", text(&removed.stderr));
    assert_nothing_left(&id);
}

#[test]
fn a_memory_limit_keeps_the_v1_cgroups() {
    vessel::require_root!();
    if !hybrid() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let id = start_sleeper(vessel_in(tmp.path()), &["-m", "64m"]);
    let record = StateDir::at(tmp.path())
        .unwrap()
        .load(&id.parse().unwrap())
        .unwrap();
    let lines = cgroups_of(record.pid);
    let memory = &lines.iter().find(|(c, _)| c == "memory").unwrap().1;
    assert!(memory.ends_with(&format!("/vessel/{id}")), "{lines:?}");
    let removed = vessel(tmp.path(), &["rm", "-f", &id]);
    assert_eq!(removed.status.code(), Some(0), "{}", text(&removed.stderr));
    assert_nothing_left(&id);
}

#[test]
fn a_foreground_run_leaves_no_unified_cgroup() {
    vessel::require_root!();
    if !hybrid() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = vessel(
        tmp.path(),
        &[
            "run",
            "--rm",
            "--name",
            "unified-fg",
            "--",
            "cat",
            "/proc/self/cgroup",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = text(&out.stdout);
    assert!(
        seen.lines()
            .any(|l| l.starts_with("0::") && l.contains("/vessel/")),
        "{seen}"
    );
    let parent = Layout::for_container(false).unwrap();
    let Layout::V2 { own, .. } = parent else {
        panic!("a hybrid host's container layout is the unified one")
    };
    let leftover: Vec<_> = std::fs::read_dir(own.join("vessel"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            seen.lines()
                .any(|l| l.starts_with("0::") && p.ends_with(l.rsplit('/').next().unwrap()))
        })
        .collect();
    assert!(leftover.is_empty(), "{leftover:?}");
}
