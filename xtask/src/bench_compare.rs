//! `cargo xtask bench-compare BASE_REV`: has start-up got slower since `BASE_REV`?
//!
//! Builds the start-up benchmark of `BASE_REV` (in a temporary git worktree) and of this
//! checkout (with any uncommitted changes), then runs them *interleaved*
//! (base, head, base, head, …) so that whatever else the machine does affects both
//! alike, and prints each benchmark's median ratio head/base with a verdict at a 10%
//! threshold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::criterion_output::{self, Estimate};
use crate::shell;

/// How many interleaved rounds to run.
const ROUNDS: usize = 3;
/// What the table calls this checkout.
const CURRENT: &str = "this checkout";
/// A ratio further than this from 1.0 is a verdict, not noise.
const THRESHOLD: f64 = 0.10;
/// Criterion settings for each round: short, since rounds repeat.
/// The stage breakdown is left out: it explains a regression, it does not detect one.
const CRITERION_ARGS: [&str; 9] = [
    "^(floor|vessel)/",
    "--bench",
    "--noplot",
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "2",
    "--sample-size",
    "20",
];

/// Runs the comparison against `base`.
pub fn run(base: &str) -> Result<(), String> {
    let root = shell::root();
    let worktree = PathBuf::from("/var/tmp/vessel-bench-compare-base");
    let _ = Command::new("git")
        .args(["worktree", "remove", "--force"])
        .arg(&worktree)
        .current_dir(&root)
        .output();
    shell::run(
        "git",
        &[
            "worktree",
            "add",
            "--detach",
            worktree.to_str().unwrap_or_default(),
            base,
        ],
    )?;
    let result = compare(&root, &worktree, base);
    let _ = Command::new("git")
        .args(["worktree", "remove", "--force"])
        .arg(&worktree)
        .current_dir(&root)
        .output();
    result
}

fn compare(head_dir: &Path, base_dir: &Path, base: &str) -> Result<(), String> {
    if !base_dir.join("benches/benches/startup.rs").exists() {
        return Err(format!(
            "{base} has no start-up benchmark (benches/benches/startup.rs): pick a later revision"
        ));
    }
    let base_bin = build(base_dir)?;
    let head_bin = build(head_dir)?;
    let mut samples: BTreeMap<String, [Vec<f64>; 2]> = BTreeMap::new();
    for round in 1..=ROUNDS {
        for (side, bin) in [&base_bin, &head_bin].into_iter().enumerate() {
            let label = if side == 0 { base } else { CURRENT };
            println!("xtask: round {round}/{ROUNDS}: {label}");
            for Estimate { name, nanos } in run_bench(bin, side)? {
                samples.entry(name).or_default()[side].push(nanos);
            }
        }
    }
    print_table(base, &samples);
    Ok(())
}

/// Builds the start-up bench of the checkout at `dir` and returns the executable.
fn build(dir: &Path) -> Result<PathBuf, String> {
    println!(
        "xtask: building the start-up benchmark in {}",
        dir.display()
    );
    let out = Command::new(shell::cargo())
        .args([
            "bench",
            "-p",
            "vessel-benches",
            "--bench",
            "startup",
            "--no-run",
        ])
        .args(["--message-format", "json"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cargo bench --no-run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the benchmark in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains("\"name\":\"startup\"") && line.contains("\"executable\":\""))
        .find_map(|line| {
            let rest = line.split_once("\"executable\":\"")?.1;
            Some(PathBuf::from(rest.split_once('"')?.0))
        })
        .ok_or_else(|| format!("no startup benchmark executable built in {}", dir.display()))
}

fn run_bench(bin: &Path, side: usize) -> Result<Vec<Estimate>, String> {
    // Separate criterion homes: each side's history must not become the other's baseline.
    let home = std::env::temp_dir().join(format!("vessel-bench-compare-{side}"));
    let out = Command::new(bin)
        .args(CRITERION_ARGS)
        .env("CRITERION_HOME", &home)
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed:\n{}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(criterion_output::parse(&String::from_utf8_lossy(
        &out.stdout,
    )))
}

fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn print_table(base: &str, samples: &BTreeMap<String, [Vec<f64>; 2]>) {
    println!();
    println!("| benchmark | {base} | {CURRENT} | ratio | verdict |");
    println!("|---|---:|---:|---:|---|");
    for (name, [base_values, head_values]) in samples {
        let (Some(b), Some(h)) = (
            median(&mut base_values.clone()),
            median(&mut head_values.clone()),
        ) else {
            println!("| {name} | – | – | – | only in one revision |");
            continue;
        };
        let ratio = h / b;
        let verdict = if ratio > 1.0 + THRESHOLD {
            "SLOWER"
        } else if ratio < 1.0 - THRESHOLD {
            "faster"
        } else {
            "same (within 10%)"
        };
        println!(
            "| {name} | {} | {} | {ratio:.2} | {verdict} |",
            criterion_output::human(b),
            criterion_output::human(h)
        );
    }
}
