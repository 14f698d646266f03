//! `cargo test -p vessel-conformance`: the whole suite against vessel, in one process
//! (`harness = false`: namespaces are created from the main thread, not libtest's).
//!
//! The probe must be static to run on the busybox rootfs, so this builds it the way
//! `cargo xtask conformance` does ([`vessel_conformance::static_build`]) unless
//! `VESSEL_PROBE` names one already built; vessel's CLI (which the security checks drive)
//! is built beside it unless `VESSEL_BIN` names one.

use std::path::{Path, PathBuf};

use vessel_conformance::static_build;

fn build_probe(workspace: &Path) -> Result<PathBuf, String> {
    let status = static_build::command(
        Path::new(env!("CARGO")),
        workspace,
        &["vessel-probe", "vessel"],
    )
    .status()
    .map_err(|e| format!("run cargo to build the probe: {e}"))?;
    if !status.success() {
        return Err(format!("building the static probe failed ({status})"));
    }
    Ok(static_build::binary_dir(workspace).join("vessel-probe"))
}

fn main() {
    if !vessel::test_support::privileged("vessel-conformance suite") {
        return;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance/ has a parent")
        .to_owned();
    let probe = match std::env::var_os("VESSEL_PROBE") {
        Some(path) => PathBuf::from(path),
        None => match build_probe(&workspace) {
            Ok(path) => path,
            Err(e) => {
                eprintln!("vessel-conformance suite: {e}");
                std::process::exit(1);
            }
        },
    };
    let beside = probe.with_file_name("vessel");
    if std::env::var_os("VESSEL_BIN").is_none() && beside.is_file() {
        // SAFETY: still single-threaded: nothing else reads the environment yet.
        unsafe { std::env::set_var("VESSEL_BIN", beside) };
    }
    let mut args = vec!["--probe".to_owned(), probe.display().to_string()];
    // `cargo test -p vessel-conformance -- TEXT` filters like libtest would; libtest's
    // own flags (`--nocapture`, `--test-threads`…) mean nothing here and are ignored.
    for arg in std::env::args().skip(1) {
        if arg == "--list" {
            args.push(arg);
        } else if !arg.starts_with('-') {
            args.extend(["--filter".to_owned(), arg]);
        }
    }
    std::process::exit(vessel_conformance::main_with(&args));
}
