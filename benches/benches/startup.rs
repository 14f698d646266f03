//! Container start-up latency, from the kernel's floor up to a full vessel start.
//!
//! * `floor/*`: `clone3` + `execve` of a static `true` + `waitpid`, with no namespace and
//!   with each namespace type alone: what each namespace costs the kernel.
//! * `vessel/*`: `Container::spawn` → exec `/bin/true` in the default rootfs → wait, with
//!   growing isolation, up to all namespaces + a cgroup with limits + an overlay rootfs.
//!   The difference to the floor is vessel's own work (mounts, `pivot_root`, pipes).
//! * `stages/*`: one full start (all supported namespaces, a cgroup with limits) cut into
//!   its stages by the runtime's own trace (`ContainerSpec::trace_start`): clone, cgroup
//!   create and attach, each mount, `pivot_root`, old-root detach, exec; plus the wait.
//! * `*-cold`: the same with an idle gap before each run. Back-to-back loops hide costs
//!   that are deferred to the next RCU grace period or to a worker (namespace teardown,
//!   cgroup attach); the cold variants do not.
//!
//! Run with `cargo bench -p vessel-benches --bench startup` (as root).

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use vessel::cgroups::{CgroupSpec, Resources};
use vessel::layers::OverlayRootfs;
use vessel::{ContainerSpec, Namespace, Namespaces};
use vessel_benches::floor::TrueProgram;

/// Idle time before each run in the cold variants.
const COLD_GAP: Duration = Duration::from_millis(20);

fn floor(c: &mut Criterion) {
    vessel_benches::require_root("startup");
    let program = TrueProgram::find();
    let mut group = c.benchmark_group("floor");
    group.bench_function("fork-exec", |b| b.iter(|| program.run(0)));
    for ns in Namespace::ALL {
        group.bench_function(ns.proc_name(), |b| b.iter(|| program.run(ns.clone_flag())));
    }
    group.bench_function("fork-exec-cold", |b| {
        b.iter_custom(|iters| cold(iters, || program.run(0)))
    });
    group.finish();
}

/// The namespaces of a full start: all that need no parent-side set-up beyond id maps.
fn all_namespaces() -> Namespaces {
    Namespaces::container_default()
        .with(Namespace::Cgroup)
        .with(Namespace::Network)
}

/// The cgroup of the "+cgroup" levels: a memory and a pids limit, so a start writes
/// limit files as well as creating, attaching and removing the cgroup.
fn limited_cgroup() -> CgroupSpec {
    let resources = Resources {
        memory_bytes: Some(256 << 20),
        pids_max: Some(64),
        ..Resources::default()
    };
    CgroupSpec::new("bench-startup", resources)
}

/// The specs of the vessel benchmarks, cheapest first. The overlay level keeps its
/// upper layer in a scratch directory that lives as long as the returned guard.
fn levels(rootfs: &Path) -> (Vec<(&'static str, ContainerSpec)>, tempfile::TempDir) {
    let spec = |namespaces| ContainerSpec::new(rootfs, ["/bin/true"]).namespaces(namespaces);
    let scratch = tempfile::Builder::new()
        .prefix("vessel-bench-overlay-")
        .tempdir_in("/var/tmp")
        .expect("scratch dir");
    let [merged, upper, work] = ["merged", "upper", "work"].map(|d| scratch.path().join(d));
    for dir in [&merged, &upper, &work] {
        std::fs::create_dir(dir).expect("overlay dirs");
    }
    let mut overlay = ContainerSpec::new(&merged, ["/bin/true"])
        .namespaces(all_namespaces())
        .cgroup(limited_cgroup());
    overlay.overlay = Some(OverlayRootfs {
        lowers: vec![rootfs.to_owned()],
        upper,
        work,
    });
    let levels = vec![
        (
            "mount-only",
            spec(Namespaces::empty().with(Namespace::Mount)),
        ),
        ("default-namespaces", spec(Namespaces::container_default())),
        (
            "all-but-network",
            spec(all_namespaces().without(Namespace::Network)),
        ),
        ("all-namespaces", spec(all_namespaces())),
        (
            "all-namespaces+cgroup",
            spec(all_namespaces()).cgroup(limited_cgroup()),
        ),
        ("all-namespaces+cgroup+overlay", overlay),
    ];
    (levels, scratch)
}

fn run_to_exit(spec: &ContainerSpec) {
    let status = vessel::Container::spawn(spec)
        .and_then(|mut running| running.wait())
        .expect("container runs");
    assert!(status.success(), "/bin/true {status}");
}

fn vessel_end_to_end(c: &mut Criterion) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let (levels, _scratch) = levels(&rootfs);
    let mut group = c.benchmark_group("vessel");
    for (name, spec) in &levels {
        group.bench_function(*name, |b| b.iter(|| run_to_exit(spec)));
        group.bench_function(format!("{name}-cold"), |b| {
            b.iter_custom(|iters| cold(iters, || run_to_exit(spec)))
        });
    }
    group.finish();
}

/// One traced start: each stage's duration by name, then the wait (exit, reap, cgroup
/// removal) as the last stage.
fn traced_start(spec: &ContainerSpec) -> Vec<(String, Duration)> {
    let mut running = vessel::Container::spawn(spec).expect("container starts");
    let mut stages: Vec<(String, Duration)> = running
        .start_trace()
        .expect("tracing was asked for")
        .stages
        .iter()
        .map(|s| (s.name.clone(), s.duration))
        .collect();
    let waited = Instant::now();
    running.wait().expect("container exits");
    stages.push((
        "wait (exit, reap, remove cgroup)".to_owned(),
        waited.elapsed(),
    ));
    stages
}

fn stages(c: &mut Criterion) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let spec = ContainerSpec::new(&rootfs, ["/bin/true"])
        .namespaces(all_namespaces())
        .cgroup(limited_cgroup())
        .trace_start(true);
    let names: Vec<String> = traced_start(&spec).into_iter().map(|(n, _)| n).collect();
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for (index, name) in names.iter().enumerate() {
        // Numbered, so reports list the stages in the order they happen.
        group.bench_function(format!("{index:02} {name}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        traced_start(&spec)
                            .into_iter()
                            .find(|(n, _)| n == name)
                            .map_or(Duration::ZERO, |(_, d)| d)
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

/// Times `iters` runs of `f`, each after an idle gap that is not counted.
fn cold(iters: u64, f: impl Fn()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        std::thread::sleep(COLD_GAP);
        let start = Instant::now();
        f();
        total += start.elapsed();
    }
    total
}

criterion_group! {
    name = startup;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = floor, vessel_end_to_end, stages
}
criterion_main!(startup);
