//! Start-up cost of the network modes: `none` (a network namespace with only `lo`),
//! `host` (no network namespace) and `bridge` (a namespace, a leased address, a veth pair
//! made and wired by the parent while the child waits, the address given back after
//! the exit) — and whether bridge set-up grows with the number of containers already on
//! the bridge (`bridge-with-N-idle`).
//!
//! Everything runs in a scratch network namespace this benchmark makes for itself, with
//! its network state in a scratch directory: the host's network is never touched.
//! Run with `cargo bench -p vessel-benches --bench network` (as root).

use criterion::{Criterion, criterion_group, criterion_main};
use vessel::network::{Request, attach};
use vessel::{ContainerSpec, Namespace, Namespaces};

/// Moves the (still single-threaded) benchmark into a scratch network namespace.
fn enter_scratch_namespace() -> std::path::PathBuf {
    // SAFETY: unshare takes a flag word; criterion has started no thread yet.
    let unshared = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(unshared, 0, "unshare(CLONE_NEWNET)");
    let state = std::env::temp_dir().join(format!("vessel-bench-net-{}", std::process::id()));
    std::fs::create_dir_all(&state).expect("scratch state");
    // SAFETY: single-threaded still: nobody reads the environment meanwhile.
    unsafe { std::env::set_var(vessel::network::store::NET_DIR_ENV, &state) };
    state
}

fn spec(rootfs: &std::path::Path, network: bool) -> ContainerSpec {
    let namespaces = if network {
        Namespaces::container_default().with(Namespace::Network)
    } else {
        Namespaces::container_default().without(Namespace::Network)
    };
    ContainerSpec::new(rootfs, ["/bin/true"]).namespaces(namespaces)
}

/// One bridge-mode start to exit: lease, spawn (the parent wires the veth), wait, release.
fn bridge_run(spec: &ContainerSpec, n: u64) {
    let id = format!("b{:011x}", n);
    let request = Request {
        network: "bridge".to_owned(),
        names: vec![id.clone()],
        ..Request::default()
    };
    let lease = attach::lease(&id, &request, None).expect("lease");
    let mut spec = spec.clone();
    spec.network = Some(lease.attachment().clone());
    let status = vessel::Container::spawn(&spec)
        .and_then(|mut running| running.wait())
        .expect("container runs");
    assert!(status.success());
    drop(lease);
}

fn modes(c: &mut Criterion) {
    vessel_benches::require_root("network");
    let state = enter_scratch_namespace();
    let rootfs = vessel::rootfs::default_rootfs().expect("default rootfs");
    let with_net = spec(&rootfs, true);
    let without = spec(&rootfs, false);
    let mut group = c.benchmark_group("network");
    group.bench_function("host", |b| {
        b.iter(|| {
            vessel::Container::spawn(&without)
                .and_then(|mut r| r.wait())
                .unwrap()
        })
    });
    group.bench_function("none", |b| {
        b.iter(|| {
            vessel::Container::spawn(&with_net)
                .and_then(|mut r| r.wait())
                .unwrap()
        })
    });
    let mut n = 0;
    group.bench_function("bridge", |b| {
        b.iter(|| {
            n += 1;
            bridge_run(&with_net, n)
        })
    });
    // Idle containers already on the bridge: does wiring one more cost more?
    for idle in [16, 64] {
        let sleepers: Vec<_> = (0..idle)
            .map(|i| {
                let id = format!("s{i:011x}");
                let request = Request {
                    network: "bridge".to_owned(),
                    names: vec![id.clone()],
                    ..Request::default()
                };
                let lease = attach::lease(&id, &request, None).expect("lease");
                let mut spec = ContainerSpec::new(&rootfs, ["/bin/sleep", "100000"])
                    .namespaces(Namespaces::container_default().with(Namespace::Network));
                spec.network = Some(lease.attachment().clone());
                (
                    vessel::Container::spawn(&spec).expect("idle container"),
                    lease,
                )
            })
            .collect();
        group.bench_function(format!("bridge-with-{idle}-idle"), |b| {
            b.iter(|| {
                n += 1;
                bridge_run(&with_net, n)
            })
        });
        drop(sleepers);
    }
    group.finish();
    let _ = std::fs::remove_dir_all(state);
}

criterion_group!(benches, modes);
criterion_main!(benches);
