//! Installing what the tests need on a fresh machine: Debian packages and pinned cargo
//! tools. Everything is checked first, so a prepared machine pays nothing.

use std::path::{Path, PathBuf};

use crate::shell;

/// Debian packages the tests use, with why.
const DEBIAN_PACKAGES: [(&str, &str); 11] = [
    (
        "busybox-static",
        "the default rootfs is built from a static busybox",
    ),
    (
        "iproute2",
        "the network lessons create veth pairs with `ip`",
    ),
    (
        "podman",
        "clients/tests/podman.rs drives vessel (and runc) as podman's OCI runtime",
    ),
    (
        "runc",
        "the real-client tests run every scenario with runc too, as the control",
    ),
    (
        "containerd",
        "clients/tests/containerd.rs drives vessel through ctr, containerd and its runc shim",
    ),
    (
        "docker.io",
        "clients/tests/docker.rs drives vessel as a dockerd runtime (daemon.json runtimes)",
    ),
    (
        "nftables",
        "vessel's NAT and -p port mappings are nftables rules applied with `nft -j`",
    ),
    (
        "iperf3",
        "the network benchmark measures container-to-container and host-to-container TCP throughput",
    ),
    (
        "docker-registry",
        "clients/tests/images_registry.rs pulls from and pushes to distribution 2.8 on loopback",
    ),
    (
        "skopeo",
        "clients/tests/images_registry.rs copies images into the registry and inspects vessel's pushes",
    ),
    (
        "gettext",
        "the book's translations are merged with msgmerge (cargo xtask book-po and book-check)",
    ),
];

/// Debian packages `cargo xtask vm-conformance` needs, with why (the kernel is
/// [`install_vm_kernel`]'s business).
const VM_PACKAGES: [(&str, &str); 3] = [
    (
        "qemu-system-x86",
        "the cgroup-v2 checks boot a VM with qemu-system-x86_64",
    ),
    (
        "busybox-static",
        "the VM's init and shell are a static busybox",
    ),
    (
        "xz-utils",
        "the VM's kernel modules come xz-compressed and are unpacked for busybox insmod",
    ),
];

/// Installs what the VM run needs when missing.
pub fn install_vm_packages() -> Result<(), String> {
    install_debian(&VM_PACKAGES)
}

/// Installs the OCI runtimes `vm-conformance --peers` compares vessel with in the VM
/// (crun refuses this hybrid host, so the VM is where it can be compared).
pub fn install_vm_peers() -> Result<(), String> {
    install_debian(&[
        (
            "crun",
            "vm-conformance --peers runs the suite against crun in the VM",
        ),
        (
            "runc",
            "vm-conformance --peers runs the suite against runc in the VM",
        ),
    ])
}

/// Installs Debian's `linux-image-amd64` for the VM. vessel needs Linux 6.8 or later
/// (overlayfs `lowerdir+`); Debian 12 (bookworm) ships 6.1, so there it comes from
/// bookworm-backports (6.12), whose apt source is added if missing. Later releases
/// ship a new enough kernel themselves.
pub fn install_vm_kernel() -> Result<(), String> {
    let why = "the cgroup-v2 VM boots Debian's kernel (6.8 or later)";
    println!("xtask: installing linux-image-amd64: {why}");
    let codename = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(str::to_owned))
        .unwrap_or_default();
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    if codename == "bookworm" {
        let policy = shell::output("apt-cache", &["policy"]).unwrap_or_default();
        if !policy.contains("bookworm-backports") {
            println!(
                "xtask: adding Debian's bookworm-backports to apt's sources: {BACKPORTS_SOURCE_FILE}"
            );
            std::fs::write(BACKPORTS_SOURCE_FILE, BACKPORTS_SOURCE)
                .map_err(|e| format!("write {BACKPORTS_SOURCE_FILE}: {e}"))?;
        }
        args.extend(["-t", "bookworm-backports"]);
    }
    args.push("linux-image-amd64");
    apt_get(&["update", "-qq"])?;
    apt_get(&args)
}

const BACKPORTS_SOURCE_FILE: &str = "/etc/apt/sources.list.d/vessel-bookworm-backports.sources";
const BACKPORTS_SOURCE: &str = "Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

/// The mdBook version the book is built and tested with.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// The mdbook-i18n-helpers version (`mdbook-xgettext`, `mdbook-gettext`) the book's
/// translations are extracted and built with; 0.4 is the first for mdBook 0.5.
pub const MDBOOK_I18N_HELPERS_VERSION: &str = "0.4.0";

/// Installs every missing package and tool.
pub fn install_all() -> Result<(), String> {
    install_debian_packages()?;
    install_mdbook()?;
    install_mdbook_i18n_helpers()?;
    Ok(())
}

fn install_debian_packages() -> Result<(), String> {
    install_debian(&DEBIAN_PACKAGES)
}

/// Installs those of `packages` (name, why) that are missing, saying why.
fn install_debian(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !debian_package_installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for (name, why) in packages.iter().filter(|(n, _)| missing.contains(n)) {
        println!("xtask: installing {name}: {why}");
    }
    if shell::output("apt-get", &["--version"]).is_none() {
        return Err(format!(
            "missing packages {missing:?} and no apt-get here: install them with your package manager"
        ));
    }
    apt_get(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    apt_get(&args)
}

/// Runs `apt-get args…` without questions: CI has no terminal, and a package's
/// configuration script (the kernel's, say) must not wait for one.
fn apt_get(args: &[&str]) -> Result<(), String> {
    println!("xtask: $ apt-get {}", args.join(" "));
    let status = std::process::Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
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

/// Installs the pinned mdbook-i18n-helpers when missing or another version. Its
/// binaries have no `--version`, so cargo's own record of what it installed is asked.
pub fn install_mdbook_i18n_helpers() -> Result<(), String> {
    let wanted = format!("mdbook-i18n-helpers v{MDBOOK_I18N_HELPERS_VERSION}:");
    let installed = shell::output(&shell::cargo(), &["install", "--list"]).unwrap_or_default();
    let present = ["mdbook-gettext", "mdbook-xgettext"]
        .iter()
        .all(|bin| cargo_bin(bin).is_file());
    if present && installed.lines().any(|l| l.trim() == wanted) {
        return Ok(());
    }
    shell::run(
        &shell::cargo(),
        &[
            "install",
            "--locked",
            "mdbook-i18n-helpers",
            "--version",
            MDBOOK_I18N_HELPERS_VERSION,
        ],
    )
}

/// Where `cargo install` puts binaries (mdbook finds its preprocessors there).
pub fn cargo_bin_dir() -> PathBuf {
    cargo_bin("")
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
    let missing: Vec<(&str, &str)> = ["runc", "crun"]
        .into_iter()
        .filter(|program| find_program(program).is_none())
        .map(|package| (package, "a peer runtime to compare vessel with"))
        .collect();
    // A peer that cannot be installed is skipped later, with the reason, not fatal here.
    if let Err(message) = install_debian(&missing) {
        eprintln!("xtask: {message}");
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
