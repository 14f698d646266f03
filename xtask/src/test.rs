//! `cargo xtask test`: the project's one test command.

use crate::{book, conformance, leaks, packages, shell, vm};

/// Installs what is missing, then runs every check; stops at the first failure.
pub fn run() -> Result<(), String> {
    packages::install_all()?;
    let cargo = shell::cargo();
    shell::run(&cargo, &["fmt", "--all", "--check"])?;
    shell::run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let before = leaks::Snapshot::take();
    shell::run(&cargo, &["test", "--workspace"])?;
    // Each benchmark once, unmeasured: they must keep working even when nobody times them.
    shell::run(&cargo, &["bench", "-p", "vessel-benches", "--", "--test"])?;
    // The conformance suite once more, as a VM runs it: the static binary beside its
    // probe, with no cargo around (`cargo test` above ran it from its test entry).
    conformance::run(&[])?;
    leaks::Snapshot::take().compare(&before)?;
    // vessel's cgroup checks once more on a real cgroup-v2 kernel, in a VM, so every run
    // proves both vocabularies whatever this host has.
    vm::run(&vm::Options::default())?;
    // Includes, diagrams, `mdbook build`, `mdbook test` and the link check.
    book::check()?;
    println!("xtask: all checks passed");
    Ok(())
}
