//! What vessel does on the host side inside a layer, a rootfs or a container's writable
//! layer stays inside it, whatever symlinks the container or the image put there:
//! `commit` packs a layer that swaps a directory for a symlink to a host directory
//! without ever reading the host's file, and an image whose `/etc` points at a host
//! directory gets nothing written there.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use vessel::layers::{SourceKind, pack_dir};

/// A marker no layer may ever hold: unique to this run.
fn marker() -> String {
    format!("HOST-ONLY-{}-{:?}", std::process::id(), Instant::now())
}

/// Every file's contents in the layer tar `bytes`, with its path.
fn tar_contents(bytes: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (path, data)
        })
        .collect()
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: the two names swap in one step.
fn exchange(a: &Path, b: &Path) {
    nix::fcntl::renameat2(
        nix::fcntl::AT_FDCWD,
        a,
        nix::fcntl::AT_FDCWD,
        b,
        nix::fcntl::RenameFlags::RENAME_EXCHANGE,
    )
    .unwrap();
}

// ANCHOR: pack_race
#[test]
fn packing_a_layer_that_swaps_a_directory_for_a_symlink_never_reads_the_host() {
    let secret = marker();
    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("secret"), &secret).unwrap();
    let upper = tempfile::tempdir().unwrap();
    let data = upper.path().join("data");
    let other = upper.path().join("other");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("secret"), "the container's own\n").unwrap();
    std::os::unix::fs::symlink(host.path(), &other).unwrap();

    // The "container": swaps `data` between its directory and a symlink to the host
    // directory as fast as it can, while the layer is packed again and again.
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let (data, other) = (data.clone(), other.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                exchange(&data, &other);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut packed, mut refused) = (0, 0);
    while Instant::now() < deadline {
        let mut tar = Vec::new();
        match pack_dir(upper.path(), &mut tar, SourceKind::Overlay) {
            Ok(_) => packed += 1,
            Err(_) => {
                refused += 1;
                continue;
            }
        }
        for (path, contents) in tar_contents(&tar) {
            assert!(
                !holds(&contents, &secret),
                "{path:?} in the packed layer holds the host's file (after {packed} packs)"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(packed > 0, "every pack was refused ({refused})");
    eprintln!("{packed} packs, {refused} refused because the tree changed");
}
// ANCHOR_END: pack_race

fn vessel(root: &Path, run: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .env("VESSEL_ROOT", root)
        .env("VESSEL_RUN_DIR", run)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn commit_of_a_running_container_that_swaps_a_directory_never_packs_a_host_file() {
    vessel::require_root!();
    let secret = marker();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("secret"), &secret).unwrap();
    // Eight loops, each swapping its own directory for a symlink to the host directory
    // and back, so that a packer following a symlink meets one often.
    let script = format!(
        "for i in 0 1 2 3 4 5 6 7; do mkdir -p /d$i && echo own > /d$i/secret && \
           (while :; do mv /d$i /d$i.x; ln -s {host} /d$i; rm /d$i; mv /d$i.x /d$i; done) & \
         done; wait",
        host = host.path().display()
    );
    // `-m` gives it a cgroup, which the commit freezes.
    let out = vessel(
        &root,
        &run,
        &["run", "-d", "-m", "64m", "--", "sh", "-c", &script],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_owned();
    let mut committed = 0;
    for round in 0..30 {
        let out = vessel(&root, &run, &["commit", &id, &format!("snap{round}")]);
        if !out.status.success() {
            continue; // a layer that changed under the packer is refused, never leaked
        }
        committed += 1;
        let digest = text(&out.stdout).trim().to_owned();
        let hex = digest.trim_start_matches("sha256:");
        let tar = fs::read(root.join("layers").join(format!("{hex}.tar"))).unwrap();
        for (path, contents) in tar_contents(&tar) {
            assert!(
                !holds(&contents, &secret),
                "commit {round}: {path:?} holds the host's file"
            );
        }
    }
    let rm = vessel(&root, &run, &["rm", "-f", &id]);
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    assert!(
        committed > 0,
        "every commit of the running container failed"
    );
}

#[test]
fn an_image_whose_etc_is_a_symlink_to_a_host_directory_gets_nothing_written_there() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let host_etc = tempfile::tempdir().unwrap();
    fs::write(host_etc.path().join("keep"), "host\n").unwrap();
    // An image of one layer: /etc -> the host directory, /sbin -> it too (where
    // `--init` puts its mount point), and a shell to run.
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("bin")).unwrap();
    let busybox = vessel::rootfs::default_rootfs().unwrap().join("bin");
    for entry in fs::read_dir(&busybox).unwrap() {
        let entry = entry.unwrap();
        let to = tree.join("bin").join(entry.file_name());
        if entry.file_type().unwrap().is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(target, to).unwrap();
        } else {
            fs::copy(entry.path(), to).unwrap();
        }
    }
    for dir in ["lib", "lib64", "usr"] {
        let from = vessel::rootfs::default_rootfs().unwrap().join(dir);
        if from.exists() {
            let status = Command::new("cp")
                .args(["-a"])
                .arg(&from)
                .arg(tree.join(dir))
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    for dir in ["proc", "sys", "dev", "tmp"] {
        fs::create_dir_all(tree.join(dir)).unwrap();
    }
    std::os::unix::fs::symlink(host_etc.path(), tree.join("etc")).unwrap();
    std::os::unix::fs::symlink(host_etc.path(), tree.join("sbin")).unwrap();
    let out = vessel(
        &root,
        &run,
        &["image", "import", tree.to_str().unwrap(), "etclink"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = vessel(
        &root,
        &run,
        &[
            "run",
            "--rm",
            "--init",
            "--image",
            "etclink",
            "--",
            "sh",
            "-c",
            "cat /etc/hostname",
        ],
    );
    // Whether it runs is not the point: nothing of it may land in the host directory.
    let _ = out;
    let names: Vec<_> = fs::read_dir(host_etc.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keep"], "vessel wrote into the host directory");
}

/// The state of the container's freezer: `FROZEN`/`THAWED` (v1) or `1`/`0` (v2).
fn freezer_state(run: &Path, id: &str) -> String {
    let record = vessel::state::StateDir::at(run)
        .unwrap()
        .load(&id.parse().unwrap())
        .unwrap();
    for dir in &record.cgroup_dirs {
        for file in ["freezer.state", "cgroup.freeze"] {
            if let Ok(text) = fs::read_to_string(dir.join(file)) {
                return text.trim().to_owned();
            }
        }
    }
    panic!("no freezer among {:?}", record.cgroup_dirs);
}

// ANCHOR: commit_freezes
#[test]
fn commit_freezes_a_running_container_while_it_packs_and_thaws_it_on_every_path() {
    vessel::require_root!();
    use std::io::BufRead;
    use std::os::fd::AsRawFd;
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let out = vessel(
        &root,
        &run,
        &["run", "-d", "-m", "64m", "--", "sleep", "1000"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_owned();
    let thawed = freezer_state(&run, &id);
    assert!(thawed == "THAWED" || thawed == "0", "{thawed}");

    // While it packs, the container is frozen.
    let (read, write) = nix::unistd::pipe().unwrap();
    let mut commit = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(["commit", &id, "held"])
        .env("VESSEL_ROOT", &root)
        .env("VESSEL_RUN_DIR", &run)
        .env(
            vessel::sys::crash::HOLD_ENV,
            format!("commit-frozen:{}", write.as_raw_fd()),
        )
        .spawn()
        .unwrap();
    drop(write);
    let mut line = String::new();
    std::io::BufReader::new(fs::File::from(read))
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "vessel commit never froze the container");
    let frozen = freezer_state(&run, &id);
    assert!(frozen == "FROZEN" || frozen == "1", "{frozen}");
    // A commit killed right there leaves it frozen: `rm -f` still removes it.
    commit.kill().unwrap();
    commit.wait().unwrap();

    let out = vessel(
        &root,
        &run,
        &["run", "-d", "-m", "64m", "--", "sleep", "1000"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let second = text(&out.stdout).trim().to_owned();
    // A commit that fails after freezing (a bad image name) thaws it again.
    let out = vessel(&root, &run, &["commit", &second, "Bad Name!"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let state = freezer_state(&run, &second);
    assert!(
        state == "THAWED" || state == "0",
        "left {state} by a failed commit"
    );
    // And a good one too.
    let out = vessel(&root, &run, &["commit", &second, "good"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let state = freezer_state(&run, &second);
    assert!(
        state == "THAWED" || state == "0",
        "left {state} by a commit"
    );

    for id in [&id, &second] {
        let rm = vessel(&root, &run, &["rm", "-f", id]);
        assert!(rm.status.success(), "{}", text(&rm.stderr));
    }
}
// ANCHOR_END: commit_freezes

// ANCHOR: userns_own_layer
#[test]
fn a_user_namespace_container_writes_into_a_layer_of_its_own() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let marker = format!("userns-{}", std::process::id());
    // /tmp is the place a user-namespace root may write (the rest is owned by host
    // root, which its namespace does not map).
    let write = format!("echo leak > /tmp/{marker}");
    let out = vessel(&root, &run, &["run", "--userns", "--", "sh", "-c", &write]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Not in any later container, with a user namespace or without.
    let look = format!("ls /tmp/{marker} 2>/dev/null; true");
    for options in [&["--userns"][..], &[][..]] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["--", "sh", "-c", &look]);
        let out = vessel(&root, &run, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            "",
            "{options:?} sees the first container's files"
        );
    }
    // Not in the default rootfs either; but in the first container's own layer, which
    // `vessel commit` can pack like any other.
    let default = vessel::rootfs::default_rootfs().unwrap();
    assert!(!default.join("tmp").join(&marker).exists());
    let uppers: Vec<PathBuf> = fs::read_dir(root.join("containers"))
        .unwrap()
        .map(|e| e.unwrap().path().join("upper"))
        .collect();
    assert_eq!(uppers.len(), 1, "{uppers:?}");
    assert_eq!(
        fs::read_to_string(uppers[0].join("tmp").join(&marker)).unwrap(),
        "leak\n"
    );
    let records = vessel::state::StateDir::at(&run).unwrap().list().unwrap();
    for record in records {
        let rm = vessel(&root, &run, &["rm", "-f", &record.id]);
        assert!(rm.status.success(), "{}", text(&rm.stderr));
    }
}
// ANCHOR_END: userns_own_layer

#[test]
fn removing_a_container_never_follows_its_symlinks_out() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let host = tempfile::tempdir().unwrap();
    fs::create_dir(host.path().join("dir")).unwrap();
    fs::write(host.path().join("dir/keep"), "host\n").unwrap();
    // Symlinks to a host directory and into it, at the top of the writable layer and
    // below: removal (std's remove_dir_all, which unlinks a symlink and never descends
    // through one) must leave the host's files alone.
    let script = format!(
        "ln -s {h} /to-host && mkdir -p /deep/er && ln -s {h}/dir /deep/er/dir && \
         ln -s {h}/dir/keep /deep/keep",
        h = host.path().display()
    );
    let out = vessel(&root, &run, &["run", "--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = vessel::state::StateDir::at(&run).unwrap().list().unwrap()[0]
        .id
        .clone();
    let rm = vessel(&root, &run, &["rm", &id]);
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    assert!(!vessel::state::paths::layers(&root, &id).dir().exists());
    assert_eq!(
        fs::read_to_string(host.path().join("dir/keep")).unwrap(),
        "host\n"
    );
}
