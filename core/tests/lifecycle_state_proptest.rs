//! Property tests of the state machine as the run directory stores it: any sequence of
//! lifecycle operations on a few containers — and any interleaving of them from several
//! threads — leaves records that parse, agree with a model of `created → running →
//! exited → removed`, and keep their fields consistent with their status.

use std::collections::BTreeMap;
use std::sync::Barrier;

use proptest::prelude::*;
use vessel::state::{ContainerId, Event, Record, StateDir, StateError, Status};

const SLOTS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Create { slot: usize, named: bool },
    Supervise(usize),
    Clone(usize),
    Start(usize),
    Exit(usize, Option<i32>),
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    prop_oneof![
        (slot.clone(), any::<bool>()).prop_map(|(slot, named)| Op::Create { slot, named }),
        slot.clone().prop_map(Op::Supervise),
        slot.clone().prop_map(Op::Clone),
        slot.clone().prop_map(Op::Start),
        (slot.clone(), proptest::option::of(0..256i32)).prop_map(|(s, c)| Op::Exit(s, c)),
        slot.prop_map(Op::Remove),
    ]
}

fn id(slot: usize) -> ContainerId {
    format!("{slot:012x}").parse().unwrap()
}

/// Slots 0 and 2 share a name, so names collide.
fn name(slot: usize) -> String {
    format!("n{}", slot % 2)
}

/// The pid a "running" record names: this test process itself, alive for the whole
/// test, so the run directory sees a running record as really running (it lets a record
/// whose process is gone be removed).
fn live_pid() -> (i32, u64) {
    let me = std::process::id() as i32;
    (
        me,
        vessel::state::process::start_time(me).expect("our own start time"),
    )
}

fn event(op: &Op) -> Option<(usize, Event)> {
    let (pid, pid_start_time) = live_pid();
    match *op {
        Op::Supervise(slot) => Some((
            slot,
            Event::Supervised {
                shim_pid: 1,
                shim_start_time: 1,
            },
        )),
        Op::Clone(slot) => Some((
            slot,
            Event::Cloned {
                pid,
                pid_start_time,
            },
        )),
        Op::Start(slot) => Some((
            slot,
            Event::Started {
                pid,
                pid_start_time,
            },
        )),
        Op::Exit(slot, exit_code) => Some((
            slot,
            Event::Exited {
                exit_code,
                oom_killed: false,
            },
        )),
        _ => None,
    }
}

/// What each slot should be: its status, name and whether it ever started.
type Model = BTreeMap<usize, (Status, Option<String>, bool)>;

/// Applies `op` to the model and to the directory and checks they agree on the outcome.
fn step(dir: &StateDir, model: &mut Model, op: &Op) {
    match op {
        Op::Create { slot, named } => {
            let name = named.then(|| name(*slot));
            let taken = name
                .as_ref()
                .is_some_and(|n| model.values().any(|(_, m, _)| m.as_ref() == Some(n)));
            let record = Record::new(id(*slot), name.clone(), vec!["true".into()], "/".into());
            let result = dir.create(&record);
            if model.contains_key(slot) {
                assert!(matches!(result, Err(StateError::Io { .. })), "{result:?}");
            } else if taken {
                assert!(
                    matches!(result, Err(StateError::NameTaken(_))),
                    "{result:?}"
                );
            } else {
                result.unwrap();
                model.insert(*slot, (Status::Created, name, false));
            }
        }
        Op::Remove(slot) => {
            let result = dir.remove(&id(*slot));
            match model.get(slot) {
                Some((Status::Running, _, _)) => {
                    assert!(
                        matches!(result, Err(StateError::StillRunning(_))),
                        "{result:?}"
                    );
                }
                _ => {
                    result.unwrap();
                    model.remove(slot);
                }
            }
        }
        _ => {
            let (slot, event) = event(op).expect("an event");
            let result = dir.apply(&id(slot), event);
            let Some((status, _, started)) = model.get_mut(&slot) else {
                assert!(
                    matches!(result, Err(StateError::NoSuchContainer(_))),
                    "{result:?}"
                );
                return;
            };
            match vessel::state::machine::next(*status, &event) {
                Some(next) => {
                    result.unwrap();
                    *started |= matches!(event, Event::Started { .. });
                    *status = next;
                }
                None => {
                    assert!(
                        matches!(result, Err(StateError::InvalidTransition { .. })),
                        "{result:?}"
                    );
                }
            }
        }
    }
}

/// Every stored record parses and its fields fit its status.
fn check_consistent(record: &Record) {
    let exited = record.status == Status::Exited;
    assert_eq!(record.finished.is_some(), exited, "{record:?}");
    assert!(record.exit_code.is_none() || exited, "{record:?}");
    // The pid is recorded at the clone, before the start: a started record has one.
    assert!(record.started.is_none() || record.pid != 0, "{record:?}");
    if record.status == Status::Running {
        assert!(record.started.is_some(), "{record:?}");
    }
    if record.status == Status::Created {
        assert!(record.started.is_none(), "{record:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_sequence_of_operations_keeps_the_machine_and_the_files_consistent(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        let mut model = Model::new();
        for op in &ops {
            step(&dir, &mut model, op);
            let stored: BTreeMap<ContainerId, Record> =
                dir.list().unwrap().into_iter().map(|r| (r.id.clone(), r)).collect();
            prop_assert_eq!(stored.len(), model.len());
            for (slot, (status, name, started)) in &model {
                let record = &stored[&id(*slot)];
                prop_assert_eq!(record.status, *status);
                prop_assert_eq!(&record.name, name);
                prop_assert_eq!(record.started.is_some(), *started);
                check_consistent(record);
            }
        }
        let files: Vec<String> = std::fs::read_dir(tmp.path()).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        prop_assert!(files.is_empty(), "{:?}", files);
    }

    #[test]
    fn events_racing_from_threads_apply_at_most_once_each(
        per_thread in proptest::collection::vec(
            proptest::collection::vec(op().prop_filter("events only", |o| event(o).is_some()), 1..8),
            2..5,
        )
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        for slot in 0..SLOTS {
            dir.create(&Record::new(id(slot), None, vec![], "/".into())).unwrap();
        }
        let barrier = Barrier::new(per_thread.len());
        let applied: Vec<Vec<(usize, Event)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = per_thread
                .iter()
                .map(|ops| {
                    let (dir, barrier) = (&dir, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        ops.iter()
                            .filter_map(event)
                            .filter(|(slot, e)| dir.apply(&id(*slot), *e).is_ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for slot in 0..SLOTS {
            let ok = |want: fn(&Event) -> bool| applied
                .iter()
                .flatten()
                .filter(|(s, e)| *s == slot && want(e))
                .count();
            let started = ok(|e| matches!(e, Event::Started { .. }));
            let exited = ok(|e| matches!(e, Event::Exited { .. }));
            prop_assert!(started <= 1 && exited <= 1, "slot {}: {:?}", slot, applied);
            let record = dir.load(&id(slot)).unwrap();
            check_consistent(&record);
            let want = match (started, exited) {
                (_, 1) => Status::Exited,
                (1, 0) => Status::Running,
                _ => Status::Created,
            };
            prop_assert_eq!(record.status, want);
        }
    }
}
