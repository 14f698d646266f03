//! Builds `vessel-init` (src/bin/vessel-init.rs) a second time, as a *static* binary
//! that `vessel run --init` bind-mounts into containers.
//!
//! The container's root filesystem may have no C library at all (the default rootfs is
//! a static busybox), so the init must need nothing from it. Cargo cannot link one
//! binary of a package statically and the rest dynamically, so this script calls rustc
//! itself with `-C target-feature=+crt-static` on that one file, which uses only `std`
//! (and `src/process/child/signal_defaults.rs`, which it includes by path).
//! The `vessel` binary embeds the result (`vessel::init`).

use std::env;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "src/bin/vessel-init.rs";
/// The file the init includes by path (`#[path]`): a change to it rebuilds the init.
const INCLUDED: &str = "src/process/child/signal_defaults.rs";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed={INCLUDED}");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let status = Command::new(&rustc)
        .args(["--edition", "2024", "--crate-name", "vessel_init"])
        .args(["--crate-type", "bin", "--target", &target])
        .args(["-C", "target-feature=+crt-static"])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=s",
            "-C",
            "strip=symbols",
        ])
        .arg("-o")
        .arg(out.join("vessel-init"))
        .arg(SOURCE)
        .status()
        .unwrap_or_else(|e| panic!("running {rustc:?} to build the static vessel-init: {e}"));
    assert!(
        status.success(),
        "building the static vessel-init failed ({status}); it needs the C library's static \
         archive (libc.a: `apt-get install libc6-dev`)"
    );
    // A name for this build of it, so `vessel run --init` need not hash 1 MB per run: a
    // new binary gets a new file next to the old one under the state root.
    let binary = std::fs::read(out.join("vessel-init")).expect("read the built vessel-init");
    let mut hasher = DefaultHasher::new();
    binary.hash(&mut hasher);
    std::fs::write(
        out.join("vessel-init.id"),
        format!("{:016x}", hasher.finish()),
    )
    .expect("write vessel-init.id");
}
