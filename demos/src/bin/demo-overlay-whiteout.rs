//! # Lesson: overlayfs — lower, upper, work, merged; whiteouts, opaque dirs and copy-up
//!
//! An image's layers are read-only; a container still gets to delete and change files.
//! overlayfs joins a read-only *lower* directory and a writable *upper* directory into a
//! *merged* view (the *work* directory is its scratch space). Every change lands in upper:
//!
//! - deleting a lower file leaves a **whiteout** in upper: a character device 0/0 with
//!   the file's name, which hides the lower file;
//! - replacing a lower directory makes an **opaque** directory in upper (xattr
//!   `trusted.overlay.opaque=y`): nothing of the lower directory shows through;
//! - the first write to a lower file **copies the whole file up**, however small the
//!   write, and the lower file never changes.
//!
//! `vessel commit` packs exactly this upper directory as an OCI layer, where a whiteout
//! becomes `.wh.NAME` and an opaque directory gets a `.wh..wh..opq` entry. The lesson
//! works in a private mount namespace, so its mount never shows on the host.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use vessel::layers::{self, OverlayMount, OverlayRootfs, SourceKind, whiteout};
use vessel_demos::layer_view::tar_entries;
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-overlay-whiteout";
/// Size of the lower file the lesson appends one line to.
const LOG_SIZE: usize = 64 * 1024;

fn main() {
    Lesson::run(
        NAME,
        "deletions become whiteouts, replaced directories become opaque, and a write copies the whole file up",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("enter a private mount namespace, so the lesson's mount stays off the host");
    lesson.syscall("unshare(CLONE_NEWNS); mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
    unshare(CloneFlags::CLONE_NEWNS)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    lesson.claim(
        "this process has its own mount namespace",
        ns("self") != ns("1"),
    );

    lesson.step("lay out a lower layer, an empty upper, a work dir and a merged mount point");
    let dir = |name: &str| -> std::io::Result<std::path::PathBuf> {
        let d = scratch.join(name);
        fs::create_dir_all(&d)?;
        Ok(d)
    };
    let (lower, upper, work, merged) = (dir("lower")?, dir("upper")?, dir("work")?, dir("merged")?);
    fs::create_dir_all(lower.join("etc"))?;
    fs::write(lower.join("etc/motd"), "hello from the lower layer\n")?;
    fs::write(lower.join("etc/obsolete.conf"), "old setting\n")?;
    fs::create_dir_all(lower.join("docs"))?;
    fs::write(lower.join("docs/a.txt"), "a\n")?;
    fs::write(lower.join("docs/b.txt"), "b\n")?;
    fs::create_dir_all(lower.join("data"))?;
    fs::write(lower.join("data/log"), vec![b'.'; LOG_SIZE])?;
    lesson.see("scratch", scratch.display());
    lesson.see("lower", listing(&lower));

    lesson.step("mount the overlay: lower (read-only) + upper (writable) = merged");
    // ANCHOR: demo_mount
    lesson.syscall(
        "fsopen(\"overlay\"); fsconfig(lowerdir+, upperdir, workdir); fsmount(); \
         move_mount(merged)",
    );
    let rootfs = OverlayRootfs {
        lowers: vec![lower.clone()],
        upper: upper.clone(),
        work,
    };
    let mount = OverlayMount::mount(&rootfs, &merged)?;
    // ANCHOR_END: demo_mount
    lesson.see("merged", listing(&merged));
    lesson.claim(
        "merged shows the lower layer's files",
        listing(&merged) == listing(&lower),
    );
    lesson.claim("upper is still empty", listing(&upper).is_empty());

    lesson.step("delete a lower file through merged");
    lesson.syscall("unlink(\"merged/etc/obsolete.conf\") → overlay creates a whiteout in upper");
    fs::remove_file(merged.join("etc/obsolete.conf"))?;
    let meta = fs::symlink_metadata(upper.join("etc/obsolete.conf"))?;
    let (major, minor) = (libc::major(meta.rdev()), libc::minor(meta.rdev()));
    lesson.see(
        "upper/etc/obsolete.conf",
        format!(
            "{} {major}/{minor}",
            if meta.file_type().is_char_device() {
                "character device"
            } else {
                "not a device"
            }
        ),
    );
    lesson.claim(
        "upper holds a whiteout: a character device 0/0 with the file's name",
        whiteout::is_overlay_whiteout(&meta),
    );
    lesson.claim(
        "merged no longer has etc/obsolete.conf",
        !merged.join("etc/obsolete.conf").exists(),
    );
    lesson.claim(
        "the lower layer still has it",
        lower.join("etc/obsolete.conf").exists(),
    );

    lesson.step("replace a lower directory: remove docs/, make a new docs/ with one file");
    lesson.syscall("unlink ×2, rmdir, mkdir(\"merged/docs\") → an opaque directory in upper");
    fs::remove_dir_all(merged.join("docs"))?;
    fs::create_dir(merged.join("docs"))?;
    fs::write(merged.join("docs/new.txt"), "new\n")?;
    let opaque = xattr::get(upper.join("docs"), whiteout::OPAQUE_XATTR)?;
    lesson.see(
        "upper/docs xattr trusted.overlay.opaque",
        format!("{:?}", String::from_utf8_lossy(&opaque.unwrap_or_default())),
    );
    lesson.see("merged/docs", listing(&merged.join("docs")));
    lesson.claim(
        "upper/docs is opaque",
        whiteout::is_opaque(&upper.join("docs"))?,
    );
    lesson.claim(
        "merged/docs shows only the new file",
        listing(&merged.join("docs")) == "new.txt",
    );
    lesson.claim(
        "the lower docs/ still has a.txt and b.txt",
        listing(&lower.join("docs")) == "a.txt b.txt",
    );

    lesson.step("append one line to a 64 KiB lower file");
    lesson.syscall(
        "open(\"merged/data/log\", O_WRONLY|O_APPEND) → copy-up of the whole file, then write(2)",
    );
    let line = b"one more line\n";
    fs::OpenOptions::new()
        .append(true)
        .open(merged.join("data/log"))?
        .write_all(line)?;
    let lower_size = fs::metadata(lower.join("data/log"))?.len();
    let upper_size = fs::metadata(upper.join("data/log"))?.len();
    lesson.see("lower/data/log size", format!("{lower_size} bytes"));
    lesson.see("upper/data/log size", format!("{upper_size} bytes"));
    lesson.claim("the lower file is unchanged", lower_size == LOG_SIZE as u64);
    lesson.claim(
        "upper holds the whole file, not just the new line",
        upper_size == (LOG_SIZE + line.len()) as u64,
    );

    lesson.step("pack upper as an OCI layer, the way `vessel commit` does");
    lesson.syscall("readdir + lgetxattr(trusted.overlay.opaque) on upper; a tar with .wh. entries");
    let tar = scratch.join("layer.tar");
    let summary = layers::pack_dir(&upper, fs::File::create(&tar)?, SourceKind::Overlay)?;
    let entries = tar_entries(&tar)?;
    for entry in &entries {
        lesson.note(&format!("  {entry}"));
    }
    lesson.claim(
        "the deletion travels as etc/.wh.obsolete.conf",
        entries.iter().any(|e| e == "etc/.wh.obsolete.conf") && summary.whiteouts == 1,
    );
    lesson.claim(
        "the replaced directory travels as docs/.wh..wh..opq",
        entries.iter().any(|e| e == "docs/.wh..wh..opq") && summary.opaque_dirs == 1,
    );

    lesson.step("measure how many lower layers overlayfs stacks on this kernel");
    lesson.syscall("fsconfig(lowerdir+) × n, then FSCONFIG_CMD_CREATE: EINVAL once n is too many");
    let limit = measure_layer_limit(&scratch.join("stack"))?;
    lesson.see("most lower layers that mount", limit);
    lesson.claim(
        "vessel's MAX_LOWER_LAYERS is this kernel's real limit",
        limit == layers::MAX_LOWER_LAYERS,
    );

    lesson.step("unmount");
    lesson.syscall("umount2(merged)");
    mount.unmount()?;
    let mounted = fs::read_to_string("/proc/self/mountinfo")?.contains(&*merged.to_string_lossy());
    lesson.claim("nothing is mounted on merged any more", !mounted);
    Ok(())
}

// ANCHOR: measure_layer_limit
/// The largest number of lower layers an overlay mount accepts, by bisection between one
/// layer (always fine) and 1024 (far beyond any kernel's `OVL_MAX_STACK`).
fn measure_layer_limit(dir: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    const CEILING: usize = 1024;
    let lowers: Vec<_> = (0..CEILING).map(|i| dir.join(format!("l{i}"))).collect();
    for lower in &lowers {
        fs::create_dir_all(lower)?;
    }
    let mounts = |n: usize| -> Result<bool, Box<dyn std::error::Error>> {
        let (upper, work, merged) = (dir.join("upper"), dir.join("work"), dir.join("merged"));
        for d in [&upper, &work, &merged] {
            fs::create_dir_all(d)?;
        }
        let rootfs = OverlayRootfs {
            lowers: lowers[..n].to_vec(),
            upper,
            work,
        };
        match OverlayMount::mount(&rootfs, &merged) {
            Ok(mount) => {
                mount.unmount()?;
                Ok(true)
            }
            Err(e)
                if e.raw_os_error() == Some(libc::EINVAL)
                    || e.kind() == std::io::ErrorKind::InvalidInput =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    };
    let (mut good, mut bad) = (1, CEILING + 1);
    while bad - good > 1 {
        let mid = (good + bad) / 2;
        if mounts(mid)? { good = mid } else { bad = mid }
    }
    Ok(good)
}
// ANCHOR_END: measure_layer_limit

fn ns(pid: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The names in a directory, sorted, space-separated.
fn listing(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.join(" ")
}
