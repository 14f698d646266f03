//! `cargo xtask test`: the project's one test command.

use crate::{book, leaks, packages, shell};

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
    leaks::Snapshot::take().compare(&before)?;
    // Includes, diagrams, `mdbook build`, `mdbook test` and the link check.
    book::check()?;
    println!("xtask: all checks passed");
    Ok(())
}
