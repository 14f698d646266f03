//! The image store and the container records survive what real machines do to them:
//! a tar cut short or empty is refused, an import killed half-way leaves nothing that
//! lasts, a full disk does not stop removal, and starts killed half-way are reaped.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vessel::image::Store;
use vessel::state::StateDir;
use vessel::sys::crash::HOLD_ENV;

fn vessel(root: &Path, run: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .env("VESSEL_ROOT", root)
        .env("VESSEL_RUN_DIR", run)
        .env_remove(HOLD_ENV)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A layer tar of a directory with two files of a few kB each.
fn good_tar(dir: &Path) -> Vec<u8> {
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("etc")).unwrap();
    fs::write(tree.join("etc/a"), vec![b'a'; 5000]).unwrap();
    fs::write(tree.join("etc/b"), vec![b'b'; 3000]).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_dir_all(".", &tree).unwrap();
    tar.into_inner().unwrap()
}

/// What is in the store's `layers/` directory.
fn layer_entries(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.join("layers"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_tar_cut_short_is_refused_like_gnu_tar_and_an_empty_one_has_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let full = good_tar(tmp.path());
    // Cut inside a file's data, and inside a header.
    for (name, cut) in [("data", full.len() / 2), ("header", 512 + 5120 + 100)] {
        let path = tmp.path().join(format!("cut-{name}.tar"));
        fs::write(&path, &full[..cut]).unwrap();
        let out = vessel(
            &root,
            &run,
            &["image", "import", path.to_str().unwrap(), "cut"],
        );
        assert_eq!(
            out.status.code(),
            Some(125),
            "a tar cut in its {name} was imported: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("Unexpected EOF in archive"),
            "{}",
            text(&out.stderr)
        );
    }
    for (name, bytes) in [("empty", Vec::new()), ("zeros", vec![0u8; 10240])] {
        let path = tmp.path().join(format!("{name}.tar"));
        fs::write(&path, bytes).unwrap();
        let out = vessel(
            &root,
            &run,
            &["image", "import", path.to_str().unwrap(), name],
        );
        assert_eq!(
            out.status.code(),
            Some(125),
            "{name}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("no files"),
            "{}",
            text(&out.stderr)
        );
    }
    // Nothing of the refused imports stays, and the whole tar still imports.
    assert_eq!(layer_entries(&root), Vec::<String>::new());
    let images = text(&vessel(&root, &run, &["images"]).stdout);
    assert!(
        !images.contains("cut") && !images.contains("zeros"),
        "{images}"
    );
    let path = tmp.path().join("whole.tar");
    fs::write(&path, &full).unwrap();
    let out = vessel(
        &root,
        &run,
        &["image", "import", path.to_str().unwrap(), "whole"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

// ANCHOR: stale_staging_test
#[test]
fn what_a_killed_import_left_is_removed_when_the_store_is_next_opened_unless_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let store = Store::open(&root).unwrap();
    let layers = root.join("layers");
    let stale = [
        layers.join("importing-4242.tar"),
        layers.join("packing-4243.tar"),
        root.join("images/web.json.tmp"),
    ];
    for file in &stale {
        fs::write(file, "half").unwrap();
    }
    let unpacking = layers.join(format!("{}.unpacking", "ab".repeat(32)));
    fs::create_dir_all(unpacking.join("etc")).unwrap();
    let layer = layers.join(format!("{}.tar", "cd".repeat(32)));
    fs::write(&layer, "a stored layer").unwrap();

    // While someone holds the store's lock, they may be writing them: all stay.
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("store.lock"))
        .unwrap();
    lock.lock().unwrap();
    drop(Store::open(&root).unwrap());
    assert!(stale.iter().all(|f| f.exists()) && unpacking.exists());
    drop(lock);

    drop(store);
    Store::open(&root).unwrap();
    for file in &stale {
        assert!(!file.exists(), "{file:?} is still there");
    }
    assert!(!unpacking.exists());
    assert!(layer.exists(), "a stored layer was removed");
}
// ANCHOR_END: stale_staging_test

#[test]
fn a_full_store_still_removes_containers_and_images() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("full");
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("etc")).unwrap();
    fs::write(tree.join("etc/x"), "x\n").unwrap();
    fs::create_dir(&mount).unwrap();
    // A small tmpfs as the whole state root, in a mount namespace of the script's own:
    // the host never sees the mount, and it goes with the namespace. After each step
    // the filesystem is filled to the last byte before the next removal.
    let script = r#"
        set -u
        mount -t tmpfs -o size=64m tmpfs "$ROOT" || exit 90
        export VESSEL_ROOT="$ROOT"
        fill() { dd if=/dev/zero of="$ROOT/fill" bs=1M 2>/dev/null;
                 n=0; while dd if=/dev/zero of="$ROOT/fill$n" bs=4k count=1 2>/dev/null; do n=$((n+1)); done; }
        "$V" image import "$TREE" tiny >/dev/null || exit 91
        exited=$("$V" run -d -- true) || exit 92
        "$V" wait "$exited" >/dev/null
        stored=$("$V" run -d -- true) || exit 93
        "$V" wait "$stored" >/dev/null
        running=$("$V" run -d -- sleep 1000) || exit 94
        fill
        "$V" rm -f "$running" >/dev/null || { echo "rm -f failed"; exit 1; }
        fill
        "$V" rm "$exited" >/dev/null || { echo "rm failed"; exit 1; }
        fill
        "$V" container rm "$stored" >/dev/null || { echo "container rm failed"; exit 1; }
        fill
        "$V" image rm tiny >/dev/null || { echo "image rm failed"; exit 1; }
        test -z "$(ls "$ROOT/containers")" || { echo "layers left"; exit 1; }
        test -z "$(ls "$ROOT/run")" || { echo "records left"; exit 1; }
    "#;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env("V", env!("CARGO_BIN_EXE_vessel"))
        .env("ROOT", &mount)
        .env("TREE", &tree)
        .env_remove("VESSEL_RUN_DIR")
        .env_remove(HOLD_ENV)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Starts `vessel ARGS` held at `point` and kills it there with SIGKILL.
fn kill_at(root: &Path, run: &Path, point: &str, args: &[&str]) {
    let (read, write) = nix::unistd::pipe().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .env("VESSEL_ROOT", root)
        .env("VESSEL_RUN_DIR", run)
        .env(HOLD_ENV, format!("{point}:{}", write.as_raw_fd()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(write);
    let mut line = String::new();
    BufReader::new(fs::File::from(read))
        .read_line(&mut line)
        .unwrap();
    let pid: libc::pid_t = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("never reached {point}"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.kill();
    child.wait().unwrap();
}

// ANCHOR: reap_test
#[test]
fn starts_killed_half_way_are_reaped_by_the_next_command() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run) = (tmp.path().join("store"), tmp.path().join("run"));
    let args = ["run", "-m", "64m", "--", "true"];
    let detached = ["run", "-d", "-m", "64m", "--", "true"];
    // Every record a killed start left, as seen right after the kill (the next `run`
    // reaps it already, before making its own).
    let mut left: Vec<vessel::state::Record> = Vec::new();
    let mut collect = || {
        for record in StateDir::at(&run).unwrap().list().unwrap() {
            if record.status == vessel::state::Status::Created
                && !left.iter().any(|r| r.id == record.id)
            {
                left.push(record);
            }
        }
    };
    // At whatever moment 0-20 ms after the start...
    for delay_ms in (0..20).step_by(2) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env("VESSEL_ROOT", &root)
            .env("VESSEL_RUN_DIR", &run)
            .env_remove(HOLD_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Not a wait for anything: the moment of the kill is what varies.
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        collect();
    }
    // ...and at each named point of a start.
    for (point, args) in [
        ("run-recorded", &args[..]),
        ("run-cloned", &args[..]),
        ("run-recorded", &detached[..]),
        ("shim-supervised", &detached[..]),
        ("run-cloned", &detached[..]),
    ] {
        kill_at(&root, &run, point, args);
        collect();
    }
    assert!(left.len() >= 5, "{left:#?}");
    let cgroups: Vec<PathBuf> = left.iter().flat_map(|r| r.cgroup_dirs.clone()).collect();
    assert!(!cgroups.is_empty());

    // A start killed after the clone leaves its first process waiting for the go signal;
    // it exits by itself once it sees its supervisor gone, and until then it is running,
    // as `ps` rightly says. Wait for those exits (a pidfd each, no polling): the last
    // kill point is followed by nothing else that would give them the time.
    for record in &left {
        if let Some(process) = vessel::lifecycle::Pinned::open(record.pid, record.pid_start_time) {
            process.wait_exit(None).unwrap();
        }
    }
    let ps = vessel(&root, &run, &["ps", "-a"]);
    assert!(ps.status.success(), "{}", text(&ps.stderr));
    let after = StateDir::at(&run).unwrap().list().unwrap();
    // What is left started (and was killed after that): `ps -a` shows it as exited.
    for record in &after {
        assert!(
            !left.iter().any(|r| r.id == record.id),
            "{record:#?} was not reaped"
        );
    }
    for record in &after {
        let rm = vessel(&root, &run, &["rm", "-f", &record.id]);
        assert!(rm.status.success(), "{}", text(&rm.stderr));
    }
    for dir in &cgroups {
        assert!(!dir.exists(), "cgroup {dir:?} left behind");
    }
    let layers: Vec<_> = fs::read_dir(root.join("containers"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(layers.is_empty(), "layers left behind: {layers:?}");
}
// ANCHOR_END: reap_test
