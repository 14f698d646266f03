//! vessel against a real registry (Debian's docker-registry, distribution 2.8, on a
//! loopback port) and skopeo: `skopeo copy` in → `vessel pull` → `vessel run`;
//! `vessel push` → `skopeo inspect`; pulls shared by layer digest and resumed from a
//! partial download.

use std::fs;

use vessel_clients::registry::Registry;
use vessel_clients::skopeo::Skopeo;
use vessel_clients::vessel::Vessel;

use vessel_clients::vessel::require_root;

/// A vessel state root with the base image saved as an OCI archive at `dir/base.tar`.
fn saved_base(dir: &std::path::Path) -> (Vessel, std::path::PathBuf) {
    let vessel = Vessel::new(&dir.join("source"));
    let tar = dir.join("base.tar");
    vessel.ok(&["save", "-o", tar.to_str().unwrap(), "base"]);
    (vessel, tar)
}

fn manifest_layers(skopeo: &Skopeo, reference: &str) -> Vec<String> {
    let manifest = skopeo.inspect(reference, true);
    manifest["layers"]
        .as_array()
        .expect("a manifest with layers")
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_image_skopeo_copied_into_a_registry_is_pulled_shared_and_run() {
    if !require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let skopeo = Skopeo::new();
    let (_, tar) = saved_base(tmp.path());
    let archive = format!("oci-archive:{}", tar.display());
    let gz = format!("{}/tools/busybox:gz", registry.address());
    let zst = format!("{}/tools/busybox:zst", registry.address());
    skopeo.copy(
        &archive,
        &format!("docker://{gz}"),
        &["--dest-compress-format", "gzip"],
    );
    skopeo.copy(
        &archive,
        &format!("docker://{zst}"),
        &["--dest-compress-format", "zstd"],
    );

    let vessel = Vessel::new(&tmp.path().join("puller"));
    let out = vessel.ok(&["pull", &gz]);
    assert!(
        out.contains("1 layers downloaded, 0 already present"),
        "{out}"
    );
    let out = vessel.ok(&[
        "run",
        "--rm",
        "--image",
        &gz,
        "--",
        "echo",
        "pulled and running",
    ]);
    assert_eq!(out, "pulled and running\n");
    // The zstd copy has other blobs but the same content: nothing to download.
    let out = vessel.ok(&["pull", &zst]);
    assert!(
        out.contains("0 layers downloaded, 1 already present"),
        "{out}"
    );
    let history = vessel.ok(&["history", &zst]);
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        !vessel
            .root()
            .join("downloads/blobs/sha256")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "downloads are removed once loaded"
    );
}

#[test]
fn a_pushed_image_is_seen_by_skopeo_and_a_second_push_uploads_nothing() {
    if !require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let skopeo = Skopeo::new();
    let (vessel, _) = saved_base(tmp.path());
    let target = format!("{}/pushed/base:1", registry.address());
    vessel.ok(&["tag", "base", &target]);
    let out = vessel.ok(&["push", &target]);
    assert!(out.contains("2 blobs uploaded, 0 already there"), "{out}");
    let out = vessel.ok(&["push", &target]);
    assert!(out.contains("0 blobs uploaded, 2 already there"), "{out}");

    let inspected = skopeo.inspect(&format!("docker://{target}"), false);
    assert_eq!(inspected["Os"], "linux", "{inspected}");
    let record: serde_json::Value =
        serde_json::from_str(&vessel.ok(&["image", "inspect", "base"])).unwrap();
    assert_eq!(
        manifest_layers(&skopeo, &format!("docker://{target}")),
        record["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        "the registry has vessel's layers, by the same digests"
    );
    // And skopeo can copy it out again into a layout vessel loads.
    let layout = tmp.path().join("copied");
    skopeo.copy(
        &format!("docker://{target}"),
        &format!("oci:{}:copied", layout.display()),
        &[],
    );
    let other = Vessel::new(&tmp.path().join("other"));
    other.ok(&["load", "-i", layout.to_str().unwrap()]);
    assert_eq!(
        other.ok(&["run", "--rm", "--image", "copied", "--", "echo", "ok"]),
        "ok\n"
    );
}

#[test]
fn a_pull_resumes_a_partial_download_and_refuses_a_corrupt_one() {
    if !require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let skopeo = Skopeo::new();
    let (_, tar) = saved_base(tmp.path());
    let reference = format!("{}/resume/busybox:1", registry.address());
    skopeo.copy(
        &format!("oci-archive:{}", tar.display()),
        &format!("docker://{reference}"),
        &["--dest-compress-format", "gzip"],
    );
    let layer = manifest_layers(&skopeo, &format!("docker://{reference}"))[0].clone();
    let hex = layer.trim_start_matches("sha256:");
    let blob = fs::read(
        registry
            .storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data"),
    )
    .unwrap();
    let vessel = Vessel::new(&tmp.path().join("puller"));
    let downloads = vessel.root().join("downloads");
    fs::create_dir_all(&downloads).unwrap();
    let partial = downloads.join(format!("{hex}.partial"));

    // A first half with one byte flipped: only a resumed download keeps it, and the digest
    // of the whole then fails, naming the blob; the bad partial is dropped.
    let mut corrupt = blob[..blob.len() / 2].to_vec();
    corrupt[10] ^= 0xff;
    fs::write(&partial, &corrupt).unwrap();
    let out = vessel.run(&["pull", &reference]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains(&layer), "{stderr}");
    assert!(!partial.exists(), "a corrupt partial download is removed");
    assert!(
        vessel.ok(&["images"]).lines().count() == 1,
        "no image after a failed pull"
    );

    // The right first half: the pull asks for the rest only and succeeds.
    fs::write(&partial, &blob[..blob.len() / 2]).unwrap();
    let out = vessel.ok(&["pull", &reference]);
    assert!(out.contains("1 layers downloaded"), "{out}");
    assert_eq!(
        vessel.ok(&[
            "run", "--rm", "--image", &reference, "--", "echo", "resumed"
        ]),
        "resumed\n"
    );
}
