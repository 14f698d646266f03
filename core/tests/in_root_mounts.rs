//! An image (or a directory a volume brings in) that plants symlinks where vessel mounts
//! things must not make vessel create or mount anything outside the container's root.
//!
//! Each case points its symlink at a fresh host directory (the marker) and checks
//! afterwards that the marker is still empty and the host's mount table unchanged; the
//! container itself either refuses to start with a clear error or runs with a working
//! `/dev`, `/proc` and `/sys` of its own.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use vessel::layers::OverlayRootfs;
use vessel::process::error::ProcessError;
use vessel::rootfs::volume::Volume;
use vessel::test_support::host_mounts;
use vessel::{ContainerSpec, Error, rootfs};

/// An overlay over the default rootfs whose upper layer `plant` fills in.
struct Image {
    _dir: tempfile::TempDir,
    merged: PathBuf,
    overlay: OverlayRootfs,
}

impl Image {
    fn new(plant: impl FnOnce(&Path)) -> Image {
        let dir = tempfile::tempdir().unwrap();
        let sub = |name: &str| {
            let path = dir.path().join(name);
            fs::create_dir(&path).unwrap();
            path
        };
        let (upper, work, merged) = (sub("upper"), sub("work"), sub("merged"));
        plant(&upper);
        let overlay = OverlayRootfs {
            lowers: vec![rootfs::default_rootfs().unwrap()],
            upper,
            work,
        };
        Image {
            _dir: dir,
            merged,
            overlay,
        }
    }

    fn spec(&self, script: &str) -> ContainerSpec {
        ContainerSpec::new(&self.merged, ["/bin/sh", "-c", script]).overlay(self.overlay.clone())
    }
}

/// What a container with a sane filesystem can do.
const SANE: &str = "test -c /dev/null && test -d /dev/pts && test -d /dev/shm \
    && test -d /proc/1 && test -d /sys/kernel && echo sane";

/// Runs `spec`; either it fails with a clear error before the command starts, or the
/// command finds a sane filesystem. Either way nothing reaches `marker` or the host's
/// mount table.
fn contained(case: &str, spec: &ContainerSpec, marker: &Path) {
    let mounts_before = host_mounts();
    match vessel::output(spec).map_err(Error::from) {
        Ok(out) => assert_eq!(out.stdout, "sane\n", "{case}: {}", out.stderr),
        // A step that met the symlink (SymlinkInRootfs, or a missing in-root target).
        Err(
            error
            @ Error::Process(ProcessError::SymlinkInRootfs { .. } | ProcessError::Step { .. }),
        ) => {
            let cause = std::error::Error::source(&error).map(ToString::to_string);
            let message = format!("{error}: {}", cause.unwrap_or_default());
            assert!(
                message.contains("symlink") || message.contains("No such file"),
                "{case}: {message}"
            );
        }
        Err(other) => panic!("{case}: unexpected error {other:?}"),
    }
    let leaked: Vec<_> = fs::read_dir(marker)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        leaked.is_empty(),
        "{case}: created outside the rootfs: {leaked:?}"
    );
    assert_eq!(
        host_mounts(),
        mounts_before,
        "{case}: a mount reached the host"
    );
}

/// `../` enough times to climb from anywhere under the state directory to `/`, then `to`.
fn climbing(to: &Path) -> PathBuf {
    Path::new(&"../".repeat(32)).join(to.strip_prefix("/").unwrap())
}

#[test]
fn kernel_filesystem_mount_points_that_are_symlinks_never_lead_out() {
    vessel::require_root!();
    let marker = tempfile::tempdir().unwrap();
    let m = marker.path().to_owned();
    let cases: [(&str, &str, PathBuf); 6] = [
        ("/dev -> marker", "dev", m.clone()),
        ("/dev -> ../../…/marker", "dev", climbing(&m)),
        ("/proc -> marker", "proc", m.clone()),
        ("/proc -> /", "proc", PathBuf::from("/")),
        ("/sys -> marker", "sys", m.clone()),
        ("/sys -> /etc", "sys", PathBuf::from("/etc")),
    ];
    for (case, name, target) in cases {
        let image = Image::new(|upper| symlink(&target, upper.join(name)).unwrap());
        contained(case, &image.spec(SANE), &m);
    }
}

#[test]
fn an_image_whose_dev_is_a_symlink_to_the_host_root_creates_nothing_there() {
    vessel::require_root!();
    // The names vessel makes in /dev: none may appear in the host's / (checked by name,
    // and only those that were not there before).
    let names = [
        "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin",
    ];
    let absent: Vec<PathBuf> = names
        .iter()
        .map(|n| Path::new("/").join(n))
        .filter(|p| fs::symlink_metadata(p).is_err())
        .collect();
    let marker = tempfile::tempdir().unwrap();
    for target in [PathBuf::from("/"), climbing(Path::new("/"))] {
        let image = Image::new(|upper| symlink(&target, upper.join("dev")).unwrap());
        contained(
            &format!("/dev -> {target:?}"),
            &image.spec(SANE),
            marker.path(),
        );
        for path in &absent {
            assert!(
                fs::symlink_metadata(path).is_err(),
                "vessel created {path:?} on the host"
            );
        }
    }
}

#[test]
fn dev_shm_and_dev_pts_planted_as_symlinks_are_hidden_by_the_fresh_dev() {
    vessel::require_root!();
    let marker = tempfile::tempdir().unwrap();
    let m = marker.path().to_owned();
    let image = Image::new(|upper| {
        fs::create_dir(upper.join("dev")).unwrap();
        symlink(&m, upper.join("dev/shm")).unwrap();
        symlink(climbing(&m), upper.join("dev/pts")).unwrap();
    });
    let spec = image.spec(&format!("{SANE} && touch /dev/shm/x"));
    contained("/dev/shm, /dev/pts -> marker", &spec, &m);
}

#[test]
fn a_volume_target_below_a_symlink_that_another_volume_brings_stays_inside() {
    vessel::require_root!();
    // The host-side check looks at the image's layers; a directory bound by an earlier
    // volume is only seen by the child, which must resolve the second target in the root.
    let marker = tempfile::tempdir().unwrap();
    let m = marker.path().to_owned();
    for (case, target) in [
        ("/data/sub -> marker", m.clone()),
        ("/data/sub -> ../../…/marker", climbing(&m)),
        ("/data/sub -> /", PathBuf::from("/")),
    ] {
        let first = tempfile::tempdir().unwrap();
        symlink(&target, first.path().join("sub")).unwrap();
        let second = tempfile::tempdir().unwrap();
        let image = Image::new(|_| {});
        let spec = image
            .spec(SANE)
            .volume(Volume::parse(&format!("{}:/data", first.path().display())).unwrap())
            .volume(Volume::parse(&format!("{}:/data/sub/x", second.path().display())).unwrap());
        contained(case, &spec, &m);
        assert!(
            !Path::new("/x").exists() || case != "/data/sub -> /",
            "{case}: made /x on the host"
        );
    }
}

#[test]
fn an_image_symlink_in_a_volume_path_is_refused_before_anything_starts() {
    vessel::require_root!();
    let marker = tempfile::tempdir().unwrap();
    let image = Image::new(|upper| symlink(marker.path(), upper.join("data")).unwrap());
    let host = tempfile::tempdir().unwrap();
    let spec = image
        .spec(SANE)
        .volume(Volume::parse(&format!("{}:/data/x", host.path().display())).unwrap());
    let error = vessel::output(&spec).unwrap_err().to_string();
    assert!(error.contains("is a symlink in the container"), "{error}");
    assert_eq!(fs::read_dir(marker.path()).unwrap().count(), 0);
}
