//! `cargo xtask conformance [--peers] [SUITE ARGS…]`: builds the conformance suite and its
//! probe as static binaries and runs the suite on this host, the way a VM runs it: one
//! binary beside its probe, no cargo and no source tree needed at run time.
//!
//! `--peers` installs runc, crun and youki when missing (youki takes minutes to build)
//! and runs every check against each of them too, printing the runtime × check table.

use std::path::{Path, PathBuf};
use std::process::Command;

use vessel_conformance::static_build;

use crate::{packages, shell, vm};

/// Where the static binaries are built (shared with the suite's own test and the VM).
pub const STATIC_TARGET_DIR: &str = static_build::STATIC_TARGET_DIR;

/// Builds `vessel-conformance`, `vessel-probe` and `vessel` statically; returns the
/// directory that holds them (the suite finds its probe and vessel's CLI beside itself).
pub fn build_static() -> Result<PathBuf, String> {
    let root = shell::root();
    println!(
        "xtask: building the static suite and probe into {}",
        root.join(STATIC_TARGET_DIR).display()
    );
    let status = static_build::command(
        Path::new(&shell::cargo()),
        &root,
        // vessel's own CLI too: the security checks drive `vessel run`, `commit` and
        // `--userns` through it, found beside the suite.
        &["vessel-conformance", "vessel-probe", "vessel"],
    )
    .status()
    .map_err(|e| format!("run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the static conformance binaries failed ({status})"
        ));
    }
    let dir = static_build::binary_dir(&root);
    for binary in ["vessel-conformance", "vessel-probe", "vessel"] {
        vm::check_static(&dir.join(binary))?;
    }
    Ok(dir)
}

/// Runs the suite on this host; `args` go to the suite, except `--peers`.
pub fn run(args: &[String]) -> Result<(), String> {
    let peers = args.iter().any(|a| a == "--peers");
    let mut suite_args: Vec<String> = args.iter().filter(|a| *a != "--peers").cloned().collect();
    if peers {
        packages::install_peer_runtimes();
        suite_args.extend(["--runtime".to_owned(), "all".to_owned()]);
    }
    let dir = build_static()?;
    let suite = dir.join("vessel-conformance");
    println!("xtask: $ {} {}", suite.display(), suite_args.join(" "));
    let status = Command::new(&suite)
        .args(&suite_args)
        .status()
        .map_err(|e| format!("run {}: {e}", suite.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the conformance suite failed ({status})"))
    }
}
