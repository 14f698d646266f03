//! How the suite and its probe are built as static binaries: the probe runs on a busybox
//! rootfs, and the VM runs the suite with no loader. One place for the settings, shared
//! by `cargo test -p vessel-conformance` (tests/suite.rs), `cargo xtask conformance` and
//! `cargo xtask vm-conformance`, so all of them reuse one build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target directory, relative to the workspace: the VM's static one.
pub const STATIC_TARGET_DIR: &str = "target/vm";
/// The only target here; `+crt-static` makes glibc binaries static.
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// `cargo <subcommand>` for the static target, into [`STATIC_TARGET_DIR`], without debug
/// info (smaller binaries; panics still name the file and line). The caller adds the rest.
pub fn cargo(cargo: &Path, workspace: &Path, subcommand: &str) -> Command {
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([subcommand, "--target", TARGET])
        .arg("--target-dir")
        .arg(workspace.join(STATIC_TARGET_DIR))
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_PROFILE_DEV_STRIP", "debuginfo");
    command
}

/// `cargo build` of `packages`, static, without debug info, into [`STATIC_TARGET_DIR`].
pub fn command(cargo_path: &Path, workspace: &Path, packages: &[&str]) -> Command {
    let mut command = cargo(cargo_path, workspace, "build");
    command.arg("--quiet");
    for package in packages {
        command.args(["-p", package]);
    }
    command
}

/// Where [`command`] puts the binaries.
pub fn binary_dir(workspace: &Path) -> PathBuf {
    workspace.join(STATIC_TARGET_DIR).join(TARGET).join("debug")
}
