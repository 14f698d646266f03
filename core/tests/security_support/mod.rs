//! Shared by the security tests: the static probe (see `probe.rs`), built once per test
//! binary into a directory that tests mount into containers at `/home`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where the probe is inside a container run with [`probe_volume`].
pub const PROBE: &str = "/home/probe";

/// The directory holding the built probe.
pub fn probe_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Cargo's scratch directory for integration tests: kept between runs, removed by
        // `cargo clean`. Built under a name of this process's, then renamed into place,
        // so two test binaries building at once never run a half-written probe.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("security-probe");
        std::fs::create_dir_all(&dir).expect("create the probe's directory");
        let building = dir.with_file_name(format!("probe-{}", std::process::id()));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/security_support/probe.rs");
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
        let status = Command::new(rustc)
            .args([
                "--edition",
                "2024",
                "-C",
                "target-feature=+crt-static",
                "-C",
                "opt-level=1",
                "-o",
            ])
            .arg(&building)
            .arg(&source)
            .status()
            .expect("run rustc for the probe");
        assert!(status.success(), "building the static probe failed");
        std::fs::rename(&building, dir.join("probe")).expect("move the probe into place");
        dir
    })
}

/// `-v DIR:/home:ro`: the probe in a container.
pub fn probe_volume() -> String {
    format!("{}:/home:ro", probe_dir().display())
}
