//! Containers on image layers, through the library and the CLI: the base layer stays
//! untouched, commits stack into images that run, many layers mount, volumes are seen
//! inside and nowhere else, and nothing is left behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use vessel::image::{ContainerFs, Image, Store};
use vessel::rootfs::volume::Volume;
use vessel::test_support::host_mounts;
use vessel::{ContainerSpec, image};

fn overlay_mounts() -> usize {
    host_mounts()
        .iter()
        .filter(|l| l.contains(" - overlay "))
        .count()
}

/// Runs `script` in a new container of `image`, keeping its layers; returns its output
/// and the container's id.
fn run_in(
    store: &Store,
    image: &Image,
    id: &str,
    script: &str,
    volumes: &[Volume],
) -> (vessel::Output, ContainerFs) {
    let argv = vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()];
    let layers = ContainerFs::create(store, &id.parse().unwrap(), image, id, &argv)
        .expect("create container layers");
    let mut spec = ContainerSpec::new(layers.merged(), argv)
        .overlay(layers.overlay())
        .hostname(id);
    for v in volumes {
        spec = spec.volume(v.clone());
    }
    let out = vessel::output(&spec).expect("run container");
    (out, layers)
}

#[test]
fn commits_stack_into_an_image_of_three_layers_that_runs() {
    vessel::require_root!();
    let mounts = overlay_mounts();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let base = store.image("base").unwrap();

    let (out, first) = run_in(
        &store,
        &base,
        "000000000001",
        "echo one > /greeting; rm /etc/os-release; rm -r /home",
        &[],
    );
    assert!(out.status.success(), "{}", out.stderr);
    // A unique id prefix names the container, as for `vessel commit`.
    let first_id = vessel::state::resolve(store.containers().unwrap(), "00000000000")
        .unwrap()
        .id;
    let (two, summary) = image::commit(&store, &first_id, "two").unwrap();
    assert_eq!(two.layers.len(), 2);
    assert_eq!(summary.whiteouts, 2, "os-release and home were deleted");
    drop(first);

    let (out, second) = run_in(
        &store,
        &two,
        "000000000002",
        "cat /greeting; echo two >> /greeting; mkdir /home; echo x > /home/new",
        &[],
    );
    assert_eq!(out.stdout, "one\n", "{}", out.stderr);
    let (three, _) = image::commit(&store, &"000000000002".parse().unwrap(), "three").unwrap();
    assert_eq!(three.layers.len(), 3);
    drop(second);

    let (out, third) = run_in(
        &store,
        &three,
        "000000000003",
        "cat /greeting; test -e /etc/os-release && echo os-release; ls /home; cat /etc/hostname",
        &[],
    );
    assert_eq!(
        out.stdout, "one\ntwo\nnew\n000000000003\n",
        "{}",
        out.stderr
    );
    third.remove().unwrap();

    // The init layer's files were never committed.
    for image in [&two, &three] {
        let top = store.layer_tar(image.layers.last().unwrap());
        let names: Vec<String> = tar::Archive::new(fs::File::open(top).unwrap())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        for file in ["etc/hostname", "etc/hosts", "etc/resolv.conf"] {
            assert!(
                !names.contains(&file.to_owned()),
                "{file} committed: {names:?}"
            );
        }
    }

    // An image in use cannot be removed; once its containers are gone it can.
    let refused = store.remove_image("two").unwrap_err().to_string();
    assert!(
        refused.contains("is used by container 000000000002"),
        "{refused}"
    );
    store.remove_container(&first_id).unwrap();
    store
        .remove_container(&"000000000002".parse().unwrap())
        .unwrap();
    store.remove_image("three").unwrap();
    let removed = store.remove_image("two").unwrap();
    assert_eq!(
        removed,
        [two.layers[1].clone()],
        "only two's own layer goes; base keeps its layer"
    );
    assert_eq!(
        overlay_mounts(),
        mounts,
        "an overlay mount was left on the host"
    );
}

#[test]
fn deleting_in_a_container_leaves_the_base_layer_untouched() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let vessel = env!("CARGO_BIN_EXE_vessel");
    let out = Command::new(vessel)
        .args(["run", "--image", "base", "--rm", "--", "rm", "/bin/ls"])
        .env("VESSEL_ROOT", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(tmp.path()).unwrap();
    let base = store.image("base").unwrap();
    let layer = store.layer_dir(&base.layers[0]);
    assert!(
        fs::symlink_metadata(layer.join("bin/ls")).is_ok(),
        "the base layer lost /bin/ls"
    );
    assert_eq!(
        fs::read_dir(store.containers_dir()).unwrap().count(),
        0,
        "--rm left the container behind"
    );
    let again = Command::new(vessel)
        .args([
            "run",
            "--rm",
            "--",
            "sh",
            "-c",
            "test -e /bin/ls && echo still-there",
        ])
        .env("VESSEL_ROOT", tmp.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&again.stdout), "still-there\n");
}

#[test]
fn an_image_of_many_layers_mounts_past_the_option_page_limit() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let base = store.image("base").unwrap();
    let mut layers = base.layers.clone();
    // 150 layers of ~90-byte paths: over 13 kB of lowerdir, three times a page.
    for n in 0..150 {
        let dir = tmp.path().join(format!("src-{n}"));
        fs::create_dir_all(dir.join("layers")).unwrap();
        fs::write(dir.join("layers").join(n.to_string()), "").unwrap();
        fs::write(dir.join("top"), n.to_string()).unwrap();
        layers.push(store.import(&dir, &format!("part-{n}")).unwrap().0.layers[0].clone());
    }
    let tall = Image {
        name: "tall".into(),
        layers,
        config: base.config.clone(),
        created: 0,
        history: Vec::new(),
    };
    store.save(&tall).unwrap();
    let (out, layers) = run_in(
        &store,
        &tall,
        "0000000000aa",
        "ls /layers | wc -l; cat /top",
        &[],
    );
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["150", "149"],
        "{}",
        out.stderr
    );
    layers.remove().unwrap();
}

#[test]
fn volumes_are_seen_inside_written_through_and_absent_from_the_host() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let base = store.image("base").unwrap();
    let shared = tmp.path().join("shared");
    let readonly = tmp.path().join("readonly");
    fs::create_dir(&shared).unwrap();
    fs::create_dir(&readonly).unwrap();
    fs::write(readonly.join("fixed"), "fixed\n").unwrap();
    let volumes = [
        Volume::parse(&format!("{}:/data/rw", shared.display())).unwrap(),
        Volume::parse(&format!("{}:/data/ro:ro", readonly.display())).unwrap(),
    ];
    let host_before = host_mounts();
    let (out, layers) = run_in(
        &store,
        &base,
        "0000000000bb",
        "echo hello > /data/rw/from-inside; cat /data/ro/fixed; \
         echo x > /data/ro/nope 2>/dev/null || echo read-only; \
         grep -c ' /data/r[ow] ' /proc/self/mountinfo",
        &volumes,
    );
    assert_eq!(out.stdout, "fixed\nread-only\n2\n", "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(shared.join("from-inside")).unwrap(),
        "hello\n"
    );
    assert!(!readonly.join("nope").exists());
    assert_eq!(
        host_mounts(),
        host_before,
        "a volume or overlay mount reached the host"
    );
    // Written past the layers: the upper layer holds only the mount points.
    assert!(!layers.upper().join("data/rw/from-inside").exists());
    layers.remove().unwrap();
}

#[test]
fn bad_volumes_are_refused_before_anything_starts() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let run = |volume: &str| -> Output {
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(["run", "-v", volume, "--", "true"])
            .env("VESSEL_ROOT", tmp.path())
            .output()
            .unwrap()
    };
    for (volume, expected) in [
        ("relative/dir:/data", "is relative"),
        ("/no/such/dir:/data", "does not exist"),
        ("/tmp:/data:rx", "unknown option \"rx\""),
        ("/tmp:data", "is not absolute"),
        ("/tmp:/bin/sh/x", "is a symlink in the container"),
    ] {
        let out = run(volume);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{volume} was accepted");
        assert!(stderr.contains(expected), "{volume}: {stderr}");
    }
    let containers = tmp.path().join("containers");
    let left = fs::read_dir(&containers).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "a refused run left a container in {containers:?}");
    assert!(!Path::new(&containers).join("x").exists());
}

/// Runs the vessel binary with its store in `root`.
fn vessel_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .env("VESSEL_ROOT", root)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_image_commands_import_list_inspect_commit_and_remove() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("etc")).unwrap();
    fs::write(tree.join("etc/motd"), "imported\n").unwrap();

    let out = vessel_in(&root, &["image", "import", tree.to_str().unwrap(), "motd"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("sha256:"),
        "{}",
        text(&out.stdout)
    );
    let listed = text(&vessel_in(&root, &["images"]).stdout);
    assert!(listed.lines().any(|l| l.starts_with("motd ")), "{listed}");
    let inspect = text(&vessel_in(&root, &["image", "inspect", "motd"]).stdout);
    let image: Image = serde_json::from_str(&inspect).unwrap();
    assert_eq!(image.layers.len(), 1);

    // A tar import goes through the same checks: a hostile one is refused, nothing kept.
    let hostile = tmp.path().join("hostile.tar");
    let mut builder = tar::Builder::new(fs::File::create(&hostile).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Char);
    header.set_size(0);
    header.set_mode(0o600);
    header.set_path("dev/kmem").unwrap();
    header.set_cksum();
    builder.append(&header, &[][..]).unwrap();
    builder.into_inner().unwrap();
    let layers_before = fs::read_dir(root.join("layers")).unwrap().count();
    let out = vessel_in(
        &root,
        &["image", "import", hostile.to_str().unwrap(), "evil"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("is a device node"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read_dir(root.join("layers")).unwrap().count(),
        layers_before
    );
    assert!(!text(&vessel_in(&root, &["images"]).stdout).contains("evil"));

    // Commit by id, refuse rm while the container exists, then clean up.
    let out = vessel_in(
        &root,
        &[
            "run",
            "--hostname",
            "keeper",
            "--",
            "sh",
            "-c",
            "echo kept > /kept",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ls = text(&vessel_in(&root, &["container", "ls"]).stdout);
    let id = ls
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let out = vessel_in(&root, &["commit", &id[..6], "kept"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = vessel_in(
        &root,
        &["run", "--rm", "--image", "kept", "--", "cat", "/kept"],
    );
    assert_eq!(text(&out.stdout), "kept\n", "{}", text(&out.stderr));
    let out = vessel_in(&root, &["image", "rm", "base"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains(&format!("vessel container rm {id}")),
        "{}",
        text(&out.stderr)
    );
    assert!(vessel_in(&root, &["container", "rm", &id]).status.success());
    for name in ["kept", "motd", "base"] {
        let out = vessel_in(&root, &["image", "rm", name]);
        assert!(out.status.success(), "rm {name}: {}", text(&out.stderr));
    }
    let left: Vec<_> = fs::read_dir(root.join("layers")).unwrap().collect();
    assert!(left.is_empty(), "layers left behind: {left:?}");
}

#[test]
fn a_detached_container_with_rm_leaves_no_layers_once_it_exits() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (root, run_dir) = (tmp.path().join("store"), tmp.path().join("run"));
    let out = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(["run", "-d", "--rm", "--", "sh", "-c", "echo bye > /tmp/x"])
        .env("VESSEL_ROOT", &root)
        .env("VESSEL_RUN_DIR", &run_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_owned();
    // The shim removes the layers, then (for --rm) the record, then exits. A command this
    // short may be gone, record and all, before we look: then there is nothing to wait
    // for. (Loading the record unconditionally made this test fail now and then.)
    let shim_pid = match vessel::state::StateDir::at(&run_dir)
        .unwrap()
        .load(&id.parse().unwrap())
    {
        Ok(record) => Some(record.shim_pid),
        Err(vessel::state::StateError::NoSuchContainer(_)) => None,
        Err(error) => panic!("{error}"),
    };
    // Wait for the supervisor itself to end (it removes the layers just before): a
    // pidfd becomes readable when its process exits.
    let pidfd = match shim_pid {
        // SAFETY: pidfd_open takes a pid and flags 0; the result is checked below.
        Some(pid) => (unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) }) as i32,
        None => -1,
    };
    if pidfd >= 0 {
        let mut poll = libc::pollfd {
            fd: pidfd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; the shim of `echo` ends in milliseconds, so a minute
        // only bounds a hang.
        let ready = unsafe { libc::poll(&mut poll, 1, 60_000) };
        // SAFETY: `pidfd` was opened above and is closed once.
        unsafe { libc::close(pidfd) };
        assert_eq!(
            ready, 1,
            "the shim of a finished --rm container did not exit"
        );
    }
    let left = fs::read_dir(root.join("containers")).unwrap().count();
    assert_eq!(left, 0, "--rm left the detached container's layers");
}
