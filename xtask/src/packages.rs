//! Installing what the tests need on a fresh machine: Debian packages and pinned cargo
//! tools. Everything is checked first, so a prepared machine pays nothing.

use std::path::{Path, PathBuf};

use crate::shell;

/// Debian packages the tests use, with why.
const DEBIAN_PACKAGES: [(&str, &str); 2] = [
    (
        "busybox-static",
        "the default rootfs is built from a static busybox",
    ),
    (
        "iproute2",
        "the network lessons create veth pairs with `ip`",
    ),
];

/// The mdBook version the book is built and tested with.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Installs every missing package and tool.
pub fn install_all() -> Result<(), String> {
    install_debian_packages()?;
    install_mdbook()?;
    Ok(())
}

fn install_debian_packages() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !debian_package_installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for (name, why) in DEBIAN_PACKAGES.iter().filter(|(n, _)| missing.contains(n)) {
        println!("xtask: installing {name}: {why}");
    }
    if shell::output("apt-get", &["--version"]).is_none() {
        return Err(format!(
            "missing packages {missing:?} and no apt-get here: install them with your package manager"
        ));
    }
    shell::run("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    shell::run("apt-get", &args)
}

fn debian_package_installed(name: &str) -> bool {
    shell::output("dpkg-query", &["-W", "-f=${Status}", name])
        .is_some_and(|status| status.contains("install ok installed"))
}

/// The path of the pinned `mdbook`, installing it with cargo if needed.
pub fn mdbook() -> Result<PathBuf, String> {
    install_mdbook()?;
    Ok(cargo_bin("mdbook"))
}

fn install_mdbook() -> Result<(), String> {
    let bin = cargo_bin("mdbook");
    let wanted = format!("mdbook v{MDBOOK_VERSION}");
    let have = shell::output(bin.to_str().unwrap_or("mdbook"), &["--version"]);
    if have.as_deref().map(str::trim) == Some(wanted.as_str()) {
        return Ok(());
    }
    shell::run(
        &shell::cargo(),
        &["install", "--locked", "mdbook", "--version", MDBOOK_VERSION],
    )
}

/// Where `cargo install` puts binaries.
fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    home.join("bin").join(name)
}

/// The OCI runtimes `bench-peers` compares vessel with. Installed when missing; a failed
/// install only leaves that runtime out of the table.
pub fn install_peer_runtimes() {
    for (program, package) in [("runc", "runc"), ("crun", "crun")] {
        if find_program(program).is_none() {
            let _ = shell::run("apt-get", &["install", "-y", "-qq", package]);
        }
    }
    if find_program("youki").is_none() {
        // v1 and v2 cgroup managers, without the systemd and seccomp extras that need
        // more system libraries.
        let _ = shell::run(
            &shell::cargo(),
            &[
                "install",
                "--locked",
                "youki",
                "--version",
                YOUKI_VERSION,
                "--no-default-features",
                "--features",
                "v1,v2",
            ],
        );
    }
}

/// The youki version `bench-peers` installs.
pub const YOUKI_VERSION: &str = "0.7.0";

/// `program` on `PATH` or in cargo's bin directory.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|dir| Path::new(dir).join(program))
        .chain(std::iter::once(cargo_bin(program)))
        .find(|candidate| candidate.is_file())
}
