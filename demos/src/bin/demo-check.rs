//! # Before the workshop: is this machine ready?
//!
//! vessel needs a Linux kernel with the features the lessons show, and root to use them.
//! This check reads what the kernel says about itself — its version, the cgroup
//! filesystem, the filesystems it knows, the namespace types it offers — and says for
//! each whether the lessons can run. It needs no root to run, and changes nothing.

use std::path::Path;
use std::process::exit;

use vessel::Namespace;
use vessel::cgroups::{Version, detect};
use vessel::rootfs::{self, Source};
use vessel_demos::Lesson;

const NAME: &str = "demo-check";
/// The oldest kernel vessel supports: overlayfs's `lowerdir+` through the new mount API.
const MIN_KERNEL: (u32, u32) = (6, 8);

fn main() {
    let mut lesson = Lesson::start(NAME, "is this machine ready for the vessel workshop?");

    lesson.step("the kernel: containers share it, so its version is theirs");
    lesson.syscall("uname(2)");
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    lesson.see("kernel release", &release);
    lesson.claim(
        &format!("Linux {}.{} or later", MIN_KERNEL.0, MIN_KERNEL.1),
        version(&release) >= Some(MIN_KERNEL),
    );

    lesson.step("who we are: namespaces, mounts and cgroups need root");
    lesson.syscall("geteuid(2)");
    let euid = nix::unistd::geteuid();
    lesson.see("effective uid", euid);
    lesson.claim("running as root (use sudo for the lessons)", euid.is_root());

    lesson.step("namespaces: one file per type the kernel offers");
    lesson.syscall("readlink /proc/self/ns/*");
    let missing: Vec<&str> = Namespace::ALL
        .iter()
        .map(|ns| ns.proc_name())
        .filter(|name| !Path::new("/proc/self/ns").join(name).exists())
        .collect();
    lesson.see("missing namespace types", format!("{missing:?}"));
    lesson.claim("all eight namespace types exist", missing.is_empty());
    let max_userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    lesson.see("user.max_user_namespaces", max_userns);
    lesson.claim("user namespaces may be created", max_userns > 0);

    lesson.step("cgroups: which vocabulary this machine speaks");
    lesson.syscall("statfs(\"/sys/fs/cgroup\")");
    let cgroups = detect(Path::new("/sys/fs/cgroup"));
    lesson.see(
        "cgroup mode",
        match &cgroups {
            Ok(Version::V1) => "v1".to_owned(),
            Ok(Version::Hybrid) => "hybrid (v1 controllers, an empty v2 tree)".to_owned(),
            Ok(Version::V2) => "v2 (unified)".to_owned(),
            Err(e) => e.to_string(),
        },
    );
    lesson.claim("a cgroup filesystem is mounted", cgroups.is_ok());

    lesson.step("filesystems: overlay for image layers");
    lesson.syscall("read /proc/filesystems");
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let overlay = filesystems
        .lines()
        .any(|l| l.trim_end().ends_with("\toverlay"));
    lesson.see("overlay known to the kernel", overlay);
    lesson.claim("overlayfs is available (modprobe overlay if not)", overlay);

    lesson.step("the default rootfs: what the first lesson will build it from");
    match rootfs::source() {
        Source::Busybox(path) => {
            lesson.see("source", format!("static busybox at {}", path.display()))
        }
        Source::HostBinaries => lesson.see(
            "source",
            "this host's binaries (install busybox-static for a smaller one)",
        ),
    }
    lesson.note(&format!(
        "cached in {}",
        rootfs::default_rootfs_dir().display()
    ));

    exit(lesson.finish());
}

/// `(major, minor)` of a kernel release such as `6.18.44-fc-v595`.
fn version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}
