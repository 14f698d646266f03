//! `cargo xtask bench-images [RUNS]`: `vessel load` and `vessel pull` throughput against
//! `skopeo copy` of the same image, interleaved so that the machine's mood affects all alike.
//!
//! The image is vessel's busybox rootfs plus 64 MiB of incompressible and 64 MiB of
//! compressible data in one layer, gzip-compressed by skopeo into an OCI layout and into
//! a registry (Debian's docker-registry on loopback). Each contender starts from empty
//! state every run:
//!
//! * load: `vessel load -i LAYOUT` (verify, decompress, unpack into overlay's format) vs
//!   `skopeo copy oci:LAYOUT dir:OUT --dest-decompress` (verify and decompress, no unpack);
//! * pull: `vessel pull REF` vs `skopeo copy docker://REF dir:OUT --dest-decompress`.
//!
//! Throughput is the compressed image size over the median wall time.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{packages, shell};

const WORK_DIR: &str = "/var/tmp/vessel-bench-images";
const DEFAULT_RUNS: usize = 5;

/// Runs the comparison and prints a table.
pub fn run(runs: Option<usize>) -> Result<(), String> {
    let runs = runs.unwrap_or(DEFAULT_RUNS);
    packages::install_all()?;
    shell::run(&shell::cargo(), &["build", "--release", "-p", "vessel"])?;
    let vessel = shell::root().join("target/release/vessel");
    let work = Path::new(WORK_DIR);
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work).map_err(|e| format!("{WORK_DIR}: {e}"))?;
    let result = measure(&vessel, work, runs);
    let _ = fs::remove_dir_all(work);
    result
}

fn measure(vessel: &Path, work: &Path, runs: usize) -> Result<(), String> {
    let source_root = work.join("source");
    let tree = work.join("tree");
    let rootfs = checked(
        Command::new(vessel)
            .env("VESSEL_ROOT", &source_root)
            .arg("rootfs"),
    )?;
    let rootfs = rootfs.trim();
    checked(Command::new("cp").args(["-a", rootfs]).arg(&tree))?;
    fill(&tree.join("data"))?;
    let saved = work.join("image.tar");
    for args in [
        vec!["image", "import", tree.to_str().unwrap(), "bench:1"],
        vec!["save", "-o", saved.to_str().unwrap(), "bench:1"],
    ] {
        checked(
            Command::new(vessel)
                .env("VESSEL_ROOT", &source_root)
                .args(&args),
        )?;
    }
    let skopeo = Skopeo::new(work)?;
    let layout = work.join("layout");
    skopeo.run(&[
        "copy",
        "--dest-compress-format",
        "gzip",
        &format!("oci-archive:{}", saved.display()),
        &format!("oci:{}:bench", layout.display()),
    ])?;
    let size = dir_size(&layout.join("blobs"));
    let registry = vessel_clients::registry::Registry::start();
    let reference = format!("{}/bench/image:1", registry.address());
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:bench", layout.display()),
        &format!("docker://{reference}"),
    ])?;

    let scratch = work.join("scratch");
    let layout_arg = layout.to_str().unwrap().to_owned();
    let mut table = Vec::new();
    type Step<'a> = Box<dyn Fn() -> Result<(), String> + 'a>;
    let contenders: Vec<(&str, Step<'_>)> = vec![
        (
            "load: vessel load -i LAYOUT",
            Box::new(|| {
                checked(Command::new(vessel).env("VESSEL_ROOT", &scratch).args([
                    "load",
                    "-i",
                    &layout_arg,
                ]))
                .map(drop)
            }),
        ),
        (
            "load: skopeo copy oci:LAYOUT dir: --dest-decompress",
            Box::new(|| {
                skopeo.run(&[
                    "copy",
                    "--dest-decompress",
                    &format!("oci:{layout_arg}:bench"),
                    &format!("dir:{}", scratch.display()),
                ])
            }),
        ),
        (
            "pull: vessel pull REF",
            Box::new(|| {
                checked(
                    Command::new(vessel)
                        .env("VESSEL_ROOT", &scratch)
                        .args(["pull", &reference]),
                )
                .map(drop)
            }),
        ),
        (
            "pull: skopeo copy docker://REF dir: --dest-decompress",
            Box::new(|| {
                skopeo.run(&[
                    "copy",
                    "--src-tls-verify=false",
                    "--dest-decompress",
                    &format!("docker://{reference}"),
                    &format!("dir:{}", scratch.display()),
                ])
            }),
        ),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for round in 0..=runs {
        for (i, (_, step)) in contenders.iter().enumerate() {
            let _ = fs::remove_dir_all(&scratch);
            let begin = Instant::now();
            step()?;
            let took = begin.elapsed();
            // Round 0 warms the page cache and the binaries.
            if round > 0 {
                samples[i].push(took);
            }
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    for ((name, _), mut times) in contenders.iter().zip(samples) {
        times.sort();
        let median = times[times.len() / 2];
        table.push(format!(
            "| {name} | {:.0} ms | {:.0} MB/s |",
            median.as_secs_f64() * 1000.0,
            size as f64 / 1e6 / median.as_secs_f64()
        ));
    }
    println!(
        "\nimage: {:.1} MB compressed (gzip), one layer; {runs} runs each after one warm-up\n",
        size as f64 / 1e6
    );
    println!("| command | median | throughput |\n|---|---:|---:|");
    for row in table {
        println!("{row}");
    }
    Ok(())
}

/// 64 MiB incompressible (from /dev/urandom) and 64 MiB compressible (repeated text).
fn fill(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut random = vec![0u8; 1 << 20];
    let mut urandom = fs::File::open("/dev/urandom").map_err(|e| e.to_string())?;
    for i in 0..64 {
        std::io::Read::read_exact(&mut urandom, &mut random).map_err(|e| e.to_string())?;
        fs::write(dir.join(format!("random-{i}")), &random).map_err(|e| e.to_string())?;
        let text: String = (0..(1 << 20) / 32)
            .map(|n| format!("line {n:>10} of file {i:>4}....\n"))
            .collect();
        fs::write(dir.join(format!("text-{i}")), text).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let meta = entry.metadata();
        match meta {
            Ok(m) if m.is_dir() => total += dir_size(&entry.path()),
            Ok(m) => total += m.len(),
            Err(_) => {}
        }
    }
    total
}

fn checked(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// skopeo with a policy of its own.
struct Skopeo {
    policy: std::path::PathBuf,
}

impl Skopeo {
    fn new(work: &Path) -> Result<Skopeo, String> {
        let policy = work.join("policy.json");
        fs::write(
            &policy,
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .map_err(|e| e.to_string())?;
        Ok(Skopeo { policy })
    }

    fn run(&self, args: &[&str]) -> Result<(), String> {
        checked(
            Command::new("skopeo")
                .arg("--policy")
                .arg(&self.policy)
                .args(args),
        )
        .map(drop)
    }
}
