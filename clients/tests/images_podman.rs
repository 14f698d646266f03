//! vessel and podman exchange images: `podman save` (docker-archive and oci-archive) →
//! `vessel load` → `vessel run`; `vessel save` → `podman load` → `podman run`.
//!
//! podman runs with everything in a temporary directory (`--root`, `--runroot`, vfs
//! storage, its own containers.conf), its containers' cgroups under this process's own
//! memory cgroup, no network, and runc as its runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vessel_clients::vessel::{Vessel, require_root};

const PODMAN: &str = "/usr/bin/podman";

/// A podman of the test's own. (The OCI helper's `clients/src/podman.rs` is the shared
/// harness; this small one keeps these tests independent of it until the two meet.)
struct Podman {
    dir: tempfile::TempDir,
    cgroup: String,
}

impl Podman {
    fn new() -> Podman {
        assert!(
            Path::new(PODMAN).is_file(),
            "{PODMAN} is missing: apt-get install podman (cargo xtask test installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let memory = fs::read_to_string("/proc/self/cgroup")
            .unwrap()
            .lines()
            .find_map(|l| l.split_once(":memory:").map(|(_, path)| path.to_owned()))
            .unwrap_or_else(|| "/".into());
        let cgroup = format!(
            "{}/vessel-images-{}",
            memory.trim_end_matches('/'),
            std::process::id()
        );
        fs::write(
            dir.path().join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\ncgroup_parent = \"{cgroup}\"\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nruntime = \"runc\"\n"
            ),
        )
        .unwrap();
        Podman { dir, cgroup }
    }

    fn run(&self, args: &[&str]) -> Output {
        let dir = self.dir.path();
        Command::new(PODMAN)
            .env("CONTAINERS_CONF", dir.join("containers.conf"))
            .env("TMPDIR", dir)
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("runroot"))
            .arg("--tmpdir")
            .arg(dir.join("tmp"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .expect("start podman")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podman {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.run(&["rm", "-af"]);
        // podman leaves the parent cgroup it was given in every hierarchy.
        if let Ok(entries) = fs::read_dir("/sys/fs/cgroup") {
            for hierarchy in entries.flatten() {
                let _ = fs::remove_dir(hierarchy.path().join(self.cgroup.trim_start_matches('/')));
                let _ = fs::remove_dir(
                    hierarchy.path().join(
                        self.cgroup
                            .trim_start_matches('/')
                            .rsplit_once('/')
                            .map_or("", |(_, leaf)| leaf),
                    ),
                );
            }
        }
    }
}

/// The base image's single layer tar: vessel's busybox rootfs.
fn base_layer(vessel: &Vessel) -> PathBuf {
    let record: serde_json::Value =
        serde_json::from_str(&vessel.ok(&["image", "inspect", "base"])).unwrap();
    let digest = record["layers"][0].as_str().unwrap();
    vessel
        .root()
        .join("layers")
        .join(format!("{}.tar", digest.trim_start_matches("sha256:")))
}

#[test]
fn images_podman_saved_load_into_vessel_and_run() {
    if !require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let podman = Podman::new();
    let source = Vessel::new(&tmp.path().join("source"));
    let layer = base_layer(&source);
    podman.ok(&[
        "import",
        "--change",
        "CMD [\"/bin/sh\", \"-c\", \"echo from podman: $GREETING\"]",
        "--change",
        "ENV GREETING=hello",
        "--change",
        "WORKDIR /tmp",
        "--change",
        "LABEL made.by=podman",
        "--change",
        "EXPOSE 8080/tcp",
        layer.to_str().unwrap(),
        "localhost/podman-made:1",
    ]);
    let vessel = Vessel::new(&tmp.path().join("loader"));
    for format in ["docker-archive", "oci-archive"] {
        let tar = tmp.path().join(format!("{format}.tar"));
        podman.ok(&[
            "save",
            "--format",
            format,
            "-o",
            tar.to_str().unwrap(),
            "localhost/podman-made:1",
        ]);
        let out = vessel.ok(&["load", "-i", tar.to_str().unwrap()]);
        assert!(
            out.contains("Loaded image: localhost/podman-made:1"),
            "{format}: {out}"
        );
        // The image's own CMD, ENV and WORKDIR apply.
        let out = vessel.ok(&["run", "--rm", "--image", "localhost/podman-made:1"]);
        assert_eq!(out, "from podman: hello\n", "{format}");
        let out = vessel.ok(&[
            "run",
            "--rm",
            "--image",
            "localhost/podman-made:1",
            "--",
            "pwd",
        ]);
        assert_eq!(out, "/tmp\n", "{format}");
        let record: serde_json::Value =
            serde_json::from_str(&vessel.ok(&["image", "inspect", "localhost/podman-made:1"]))
                .unwrap();
        assert_eq!(
            record["config"]["Labels"]["made.by"], "podman",
            "{format}: {record}"
        );
        assert!(
            record["config"]["ExposedPorts"]["8080/tcp"].is_object(),
            "{format}: {record}"
        );
        vessel.ok(&["image", "rm", "localhost/podman-made:1"]);
    }
}

#[test]
fn images_vessel_saved_load_into_podman_and_run() {
    if !require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let podman = Podman::new();
    let vessel = Vessel::new(&tmp.path().join("vessel"));
    vessel.ok(&[
        "image",
        "import",
        "--change",
        "CMD [\"/bin/sh\", \"-c\", \"echo made by vessel\"]",
        base_layer(&vessel).to_str().unwrap(),
        "made-by-vessel:2",
    ]);
    let tar = tmp.path().join("saved.tar");
    vessel.ok(&[
        "save",
        "-o",
        tar.to_str().unwrap(),
        "made-by-vessel:2",
        "base",
    ]);
    let out = podman.ok(&["load", "-i", tar.to_str().unwrap()]);
    assert!(out.contains("made-by-vessel:2"), "{out}");
    let out = podman.ok(&["run", "--rm", "--network", "none", "made-by-vessel:2"]);
    assert_eq!(out, "made by vessel\n");
    let out = podman.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "base",
        "cat",
        "/etc/hostname",
    ]);
    assert!(!out.is_empty());
}
