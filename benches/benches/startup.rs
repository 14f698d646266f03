//! Container start-up latency, from the kernel's floor up to a full vessel start.
//!
//! * `floor/*`: `clone3` + `execve` of a static `true` + `waitpid`, with no namespace and
//!   with each namespace type alone: what each namespace costs the kernel.
//! * `vessel/*`: `Container::spawn` → exec `/bin/true` in the default rootfs → wait, with
//!   growing isolation. The difference to the floor is vessel's own work (mounts,
//!   `pivot_root`, pipes).
//! * `*-cold`: the same with an idle gap before each run. Back-to-back loops hide costs
//!   that are deferred to the next RCU grace period or to a worker (namespace teardown,
//!   cgroup attach); the cold variants do not.
//!
//! Run with `cargo bench -p vessel-benches --bench startup` (as root).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
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

/// The isolation levels of the vessel benchmarks, cheapest first.
fn levels() -> [(&'static str, Namespaces); 3] {
    let default = Namespaces::container_default();
    [
        ("mount-only", Namespaces::empty().with(Namespace::Mount)),
        ("default-namespaces", default),
        (
            "all-supported-namespaces",
            default.with(Namespace::Cgroup).with(Namespace::Network),
        ),
    ]
}

fn vessel_end_to_end(c: &mut Criterion) {
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let mut group = c.benchmark_group("vessel");
    for (name, namespaces) in levels() {
        let spec = ContainerSpec::new(&rootfs, ["/bin/true"]).namespaces(namespaces);
        let run = || {
            let status = vessel::Container::spawn(&spec)
                .and_then(|mut running| running.wait())
                .expect("container runs");
            assert!(status.success(), "/bin/true {status}");
        };
        group.bench_function(name, |b| b.iter(run));
        group.bench_function(format!("{name}-cold"), |b| {
            b.iter_custom(|iters| cold(iters, run))
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
    targets = floor, vessel_end_to_end
}
criterion_main!(startup);
