//! The track cannot rot: each reference solution is graded the way a learner's runtime
//! is, by the conformance suite driving it as an OCI runtime with its level's filter and
//! every earlier level's (`vessel-conformance --runtime PATH --filter …`). And each
//! level's starting file, whose `todo!()`s are not filled in yet, must *fail* its own
//! grade, and so must the previous level's solution, so a grade that passes anything (or
//! nothing new) would be caught.
//!
//! `harness = false`, one level after another: the suite checks for leaks after each
//! check, and two suites at once would see each other's containers.

use std::path::{Path, PathBuf};
use std::process::Command;

use track::GRADES;

/// The first level (0-based: level 5) whose grade is also run on the previous solution.
const FIRST_GRADED_ON_PREVIOUS: usize = 4;
use vessel_conformance::static_build;

/// The static suite and probe, built the way `cargo xtask conformance` builds them.
fn build_suite(workspace: &Path) -> Result<PathBuf, String> {
    let packages = ["vessel-conformance", "vessel-probe"];
    let status = static_build::command(Path::new(env!("CARGO")), workspace, &packages)
        .status()
        .map_err(|e| format!("run cargo to build the static suite: {e}"))?;
    if !status.success() {
        return Err(format!("building the static suite failed ({status})"));
    }
    Ok(static_build::binary_dir(workspace).join("vessel-conformance"))
}

/// Runs the suite against `runtime` with `filter`; returns (passed, failed, skipped) and
/// the output.
fn grade(suite: &Path, runtime: &str, filter: &str) -> Result<((u32, u32, u32), String), String> {
    let out = Command::new(suite)
        .args(["--runtime", runtime, "--filter", filter])
        .output()
        .map_err(|e| format!("run {}: {e}", suite.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = text
        .lines()
        .rev()
        .find_map(summary)
        .ok_or_else(|| format!("no `N passed, N failed, N skipped` line:\n{text}"))?;
    Ok((counts, text))
}

/// Reads `N passed, N failed, N skipped`.
fn summary(line: &str) -> Option<(u32, u32, u32)> {
    let mut numbers = line
        .split(", ")
        .map(|part| part.split(' ').next()?.parse().ok());
    let passed = numbers.next()??;
    let failed = numbers.next()??;
    let skipped = numbers.next()??;
    line.contains("passed").then_some((passed, failed, skipped))
}

fn main() {
    if !vessel::test_support::privileged("vessel-track solutions") {
        return;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("track/ has a parent");
    let suite = match build_suite(workspace) {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("vessel-track solutions: {e}");
            std::process::exit(1);
        }
    };
    let solutions = [
        env!("CARGO_BIN_EXE_solution-1"),
        env!("CARGO_BIN_EXE_solution-2"),
        env!("CARGO_BIN_EXE_solution-3"),
        env!("CARGO_BIN_EXE_solution-4"),
        env!("CARGO_BIN_EXE_solution-5"),
        env!("CARGO_BIN_EXE_solution-6"),
    ];
    let starts = [
        env!("CARGO_BIN_EXE_level-1"),
        env!("CARGO_BIN_EXE_level-2"),
        env!("CARGO_BIN_EXE_level-3"),
        env!("CARGO_BIN_EXE_level-4"),
        env!("CARGO_BIN_EXE_level-5"),
        env!("CARGO_BIN_EXE_level-6"),
    ];
    let mut failures = Vec::new();
    for (level, (name, own)) in GRADES.iter().enumerate() {
        // The solution passes its own grade and every earlier one, and skips nothing.
        let all: Vec<&str> = GRADES[..=level].iter().map(|(_, f)| *f).collect();
        match grade(&suite, solutions[level], &all.join(",")) {
            Ok(((passed, 0, 0), _)) if passed > 0 => {
                println!("ok - {name}'s solution: {passed} checks pass");
            }
            Ok((counts, text)) => failures.push(format!("{name}'s solution: {counts:?}\n{text}")),
            Err(e) => failures.push(format!("{name}'s solution: {e}")),
        }
        // The starting file fails its own grade: its todo!() is not done yet.
        match grade(&suite, starts[level], own) {
            Ok(((_, failed, _), _)) if failed > 0 => {
                println!("ok - {name}'s starting file fails its grade ({failed} checks)");
            }
            Ok((counts, text)) => failures.push(format!(
                "{name}'s starting file passes its own grade {counts:?}: the grade checks nothing\n{text}"
            )),
            Err(e) => failures.push(format!("{name}'s starting file: {e}")),
        }
        // The previous level's solution fails it too: the grade asks for something new.
        // Only from level 5 on: the UTS and PID checks, run without their namespace, would
        // act on the host (its hostname, its processes).
        if level < FIRST_GRADED_ON_PREVIOUS {
            continue;
        }
        let previous = solutions[level - 1];
        match grade(&suite, previous, own) {
            Ok(((_, failed, _), _)) if failed > 0 => {
                println!("ok - {name}'s grade fails the previous solution ({failed} checks)");
            }
            Ok((counts, text)) => failures.push(format!(
                "{name}'s grade passes the previous level's solution {counts:?}: it grades \
                 nothing new\n{text}"
            )),
            Err(e) => failures.push(format!("{name}'s grade on the previous solution: {e}")),
        }
    }
    if failures.is_empty() {
        println!("vessel-track: every level's solution passes and every starting file fails");
    } else {
        eprintln!("vessel-track: {}", failures.join("\n\n"));
        std::process::exit(1);
    }
}
