//! Overlay copy-up latency.
//!
//! The first write to a file that lives in a lower layer makes overlayfs copy the *whole*
//! file to the upper layer before the write lands. These benchmarks measure that cost by
//! file size, against the floor of writing the same number of bytes to a new plain file,
//! with the upper layer on the disk and on tmpfs. They also measure metadata changes
//! (chmod, rename) with and without `metacopy=on`, which copies up only the inode and is
//! therefore flat in the file size, and the cost of deleting a lower file (a whiteout).
//!
//! Every measured operation hits a fresh lower file, so copy-up really happens each time.
//! Run with `cargo bench -p vessel-benches --bench copy_up` (as root).

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use vessel_benches::overlay::{Overlay, UpperOn, fill_files};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const SIZES: [usize; 5] = [4 * KIB, 64 * KIB, MIB, 16 * MIB, 64 * MIB];

fn size_name(size: usize) -> String {
    if size >= MIB {
        format!("{}MiB", size / MIB)
    } else {
        format!("{}KiB", size / KIB)
    }
}

/// Runs `op` once on each of `iters` fresh lower files of `size` bytes, in an overlay
/// mounted with `options`, and returns the time spent in `op` alone.
fn on_fresh_lower_files(
    iters: u64,
    size: usize,
    upper_on: UpperOn,
    options: &str,
    op: impl Fn(&Path, u64),
) -> Duration {
    let overlay = Overlay::new(upper_on, options, |lower| fill_files(lower, iters, size))
        .expect("mount the benchmark overlay");
    let start = Instant::now();
    for i in 0..iters {
        op(overlay.merged(), i);
    }
    let elapsed = start.elapsed();
    drop(overlay);
    elapsed
}

// ANCHOR: first_write
fn first_write(merged: &Path, i: u64) {
    let file = OpenOptions::new()
        .write(true)
        .open(merged.join(i.to_string()))
        .expect("open a lower file for writing");
    file.write_all_at(b"!", 0).expect("write one byte");
}
// ANCHOR_END: first_write

fn copy_up_first_write(c: &mut Criterion) {
    vessel_benches::require_root("copy_up");
    let mut group = c.benchmark_group("copy_up");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        for upper_on in [UpperOn::Disk, UpperOn::Tmpfs] {
            let id = BenchmarkId::new(format!("first-write/{}", upper_on.name()), size_name(size));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| on_fresh_lower_files(iters, size, upper_on, "", first_write))
            });
            let floor =
                BenchmarkId::new(format!("plain-write/{}", upper_on.name()), size_name(size));
            group.bench_function(floor, |b| {
                b.iter_custom(|iters| plain_writes(iters, size, upper_on))
            });
        }
    }
    group.finish();
}

/// The floor: writing `size` bytes to `iters` new files on the upper layer's filesystem.
fn plain_writes(iters: u64, size: usize, upper_on: UpperOn) -> Duration {
    // An overlay with an empty lower has the upper layer's filesystem (disk or tmpfs); we
    // write beside the upper dir, not through the overlay's merged view.
    let overlay = Overlay::new(upper_on, "", |_| Ok(())).expect("mount the benchmark overlay");
    let dir = overlay.beside_upper();
    let bytes = vec![0x5a; size];
    let start = Instant::now();
    for i in 0..iters {
        fs::write(dir.join(i.to_string()), &bytes).expect("plain write");
    }
    start.elapsed()
}

fn metadata_changes(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy_up_metadata");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for size in [4 * KIB, MIB, 64 * MIB] {
        for (mode, options) in [("full", "metacopy=off"), ("metacopy", "metacopy=on")] {
            let chmod = BenchmarkId::new(format!("chmod/{mode}"), size_name(size));
            group.bench_function(chmod, |b| {
                b.iter_custom(|iters| {
                    on_fresh_lower_files(iters, size, UpperOn::Disk, options, |merged, i| {
                        fs::set_permissions(
                            merged.join(i.to_string()),
                            fs::Permissions::from_mode(0o600),
                        )
                        .expect("chmod");
                    })
                })
            });
            let rename = BenchmarkId::new(format!("rename/{mode}"), size_name(size));
            group.bench_function(rename, |b| {
                b.iter_custom(|iters| {
                    on_fresh_lower_files(iters, size, UpperOn::Disk, options, |merged, i| {
                        let from = merged.join(i.to_string());
                        fs::rename(&from, from.with_extension("renamed")).expect("rename");
                    })
                })
            });
        }
    }
    group.bench_function("whiteout/unlink", |b| {
        b.iter_custom(|iters| {
            on_fresh_lower_files(iters, 4 * KIB, UpperOn::Disk, "", |merged, i| {
                fs::remove_file(merged.join(i.to_string())).expect("unlink a lower file");
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = copy_up;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = copy_up_first_write, metadata_changes
}
criterion_main!(copy_up);
