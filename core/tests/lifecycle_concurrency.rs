//! Fifty `vessel run -d` / `vessel rm -f` pairs at once, with `ps` reading all along:
//! every record read parses, and afterwards the run directory, the container layers,
//! the cgroup tree and the mount table are as they were.

mod lifecycle_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use lifecycle_support::{Vessel, cgroup_dirs, text};

const PAIRS: usize = 50;

fn vessel_cgroups() -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for dir in cgroup_dirs("x") {
        let parent = dir.parent().unwrap().to_path_buf();
        for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
            dirs.insert(entry.path().display().to_string());
        }
    }
    dirs
}

#[test]
fn fifty_concurrent_run_d_and_rm_f_pairs_leave_nothing_behind() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let mounts_before = vessel::test_support::host_mounts().len();
    let done = AtomicBool::new(false);
    let ids: Vec<String> = thread::scope(|scope| {
        // A reader racing the writers: every list it gets must parse whole.
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let out = vessel.output(&["ps", "-a", "--format", "json"]);
                assert!(out.status.success(), "ps failed: {}", text(&out.stderr));
                let list: serde_json::Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("ps printed bad JSON ({e}): {}", text(&out.stdout)));
                assert!(list.is_array());
                reads += 1;
            }
            reads
        });
        let pairs: Vec<_> = (0..PAIRS)
            .map(|i| {
                let vessel = &vessel;
                scope.spawn(move || {
                    let name = format!("pair{i}");
                    let id = vessel.ok(&[
                        "run", "-d", "--name", &name, "-m", "32m", "--", "sleep", "1000",
                    ]);
                    assert_eq!(vessel.ok(&["rm", "-f", &name]), format!("{name}\n"));
                    id.trim().to_owned()
                })
            })
            .collect();
        // Every pair is joined, and the reader stopped, before any failure is raised:
        // a scope waits for all its threads, so a reader never told to stop would hang.
        let results: Vec<_> = pairs.into_iter().map(|p| p.join()).collect();
        done.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), PAIRS);
    vessel.assert_empty();
    let cgroups = vessel_cgroups();
    for id in &ids {
        vessel.assert_gone(id);
        assert!(
            !cgroups.iter().any(|c| c.contains(id.as_str())),
            "{id}: {cgroups:?}"
        );
    }
    // Other tests may mount meanwhile; ours mount nothing on the host at all.
    let mounts: Vec<String> = vessel::test_support::host_mounts()
        .into_iter()
        .filter(|m| ids.iter().any(|id| m.contains(id.as_str())))
        .collect();
    assert!(
        mounts.is_empty(),
        "{mounts:?} (had {mounts_before} mounts before)"
    );
}
