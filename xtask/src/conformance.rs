//! `cargo xtask conformance [--peers] [SUITE ARGS…]`: builds the conformance suite and its
//! probe as static binaries and runs the suite on this host, the way a VM runs it: one
//! binary beside its probe, no cargo and no source tree needed at run time.
//!
//! `--peers` installs runc, crun and youki when missing (youki takes minutes to build)
//! and runs every check against each of them too, printing the runtime × check table.

use std::path::{Path, PathBuf};
use std::process::Command;

use vessel_conformance::static_build;

use crate::{packages, shell};

/// Where the static binaries are built (shared with the suite's own test and the VM).
pub const STATIC_TARGET_DIR: &str = static_build::STATIC_TARGET_DIR;

/// Builds `vessel-conformance` and `vessel-probe` statically; returns the directory that
/// holds both (the suite finds its probe beside itself).
pub fn build_static() -> Result<PathBuf, String> {
    let root = shell::root();
    println!(
        "xtask: building the static suite and probe into {}",
        root.join(STATIC_TARGET_DIR).display()
    );
    let status = static_build::command(
        Path::new(&shell::cargo()),
        &root,
        &["vessel-conformance", "vessel-probe"],
    )
    .status()
    .map_err(|e| format!("run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the static conformance binaries failed ({status})"
        ));
    }
    let dir = static_build::binary_dir(&root);
    for binary in ["vessel-conformance", "vessel-probe"] {
        let path = dir.join(binary);
        if has_interpreter(&path)? {
            return Err(format!(
                "{} is dynamically linked (it has an ELF interpreter); it must be static to run in a VM or on a busybox rootfs",
                path.display()
            ));
        }
    }
    Ok(dir)
}

/// Whether the ELF file at `path` names a dynamic loader (a `PT_INTERP` program header).
fn has_interpreter(path: &Path) -> Result<bool, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let not_elf = || format!("{} is not a 64-bit ELF file", path.display());
    if bytes.get(..5) != Some(b"\x7fELF\x02") {
        return Err(not_elf());
    }
    const PT_INTERP: u32 = 3;
    let phoff = u64_at(0x20).ok_or_else(not_elf)? as usize;
    let phentsize = usize::from(u16_at(0x36).ok_or_else(not_elf)?);
    let phnum = usize::from(u16_at(0x38).ok_or_else(not_elf)?);
    Ok((0..phnum).any(|i| u32_at(phoff + i * phentsize) == Some(PT_INTERP)))
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
