//! `vessel load` and `vessel save` through the library: docker-archives and OCI layouts
//! (directory and tar; plain, gzip and zstd layers) load with their config and share
//! layers; a saved image loads back the same; hostile archives are refused with an error
//! naming the blob, nothing written outside the store and the store unchanged.

mod archive_support;

use std::fs;
use std::path::Path;

use archive_support::{
    Compression, Files, TestImage, digest, docker_archive, hex, layer, oci_layout, snapshot,
};
use vessel::image::{ImageError, Store, archive};

fn base() -> Vec<u8> {
    layer(&[("bin/tool", "#!/bin/sh\n"), ("etc/os-release", "test\n")])
}

fn top(text: &str) -> Vec<u8> {
    layer(&[("hello", text)])
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

/// Loads `path` expecting an error; checks the store did not change and returns the
/// error's whole chain.
fn refused(store: &Store, path: &Path) -> String {
    let before = snapshot(store.root());
    let error = archive::load(store, path).expect_err("a hostile archive must be refused");
    assert_eq!(
        snapshot(store.root()),
        before,
        "the store changed after a refused load"
    );
    chain(&error)
}

fn chain(error: &ImageError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[test]
fn an_oci_layout_loads_with_its_config_and_shares_layers_across_images() {
    vessel::require_root!();
    let (tmp, store) = store();
    let images = [
        TestImage::new("app:gzip", vec![base(), top("gzip\n")]).compressed(Compression::Gzip),
        TestImage::new("app:zstd", vec![base(), top("zstd\n")]).compressed(Compression::Zstd),
    ];
    let dir = oci_layout(&images).write_dir(&tmp.path().join("layout"));
    let loaded = archive::load(&store, &dir).unwrap();
    assert_eq!(loaded.len(), 2);
    let gz = store.image("app:gzip").unwrap();
    let zst = store.image("app:zstd").unwrap();
    assert_eq!(gz.layers[0], zst.layers[0], "the base layer is shared");
    assert_eq!(
        gz.layers[0].to_string(),
        digest(&base()),
        "named by diff_id"
    );
    assert_eq!(gz.config.cmd, ["/bin/sh", "-c", "cat /hello"]);
    assert_eq!(gz.config.working_dir, "/srv");
    assert!(gz.config.env.contains(&"GREETING=hi".to_owned()));
    assert_eq!(gz.config.user, "1000:1000");
    assert!(gz.config.exposed_ports.contains("8080/tcp"));
    assert_eq!(gz.config.labels["made.by"], "test");
    assert!(gz.config.volumes.contains("/data"));
    assert_eq!(gz.history.len(), 3, "history is kept");
    assert_eq!(
        fs::read_to_string(store.layer_dir(&zst.layers[1]).join("hello")).unwrap(),
        "zstd\n"
    );
    let layer_tars = fs::read_dir(store.root().join("layers"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tar")
        })
        .count();
    assert_eq!(layer_tars, 3, "base stored once, plus two tops");
    // Loading the same archive again copies nothing and changes nothing but the records.
    archive::load(&store, &dir).unwrap();
}

#[test]
fn an_oci_layout_tar_and_a_docker_archive_load_and_a_save_loads_back_the_same() {
    vessel::require_root!();
    let (tmp, store) = store();
    let image = TestImage::new("docker.io/library/tool:1", vec![base(), top("one\n")])
        .compressed(Compression::Gzip);
    let tar =
        docker_archive(std::slice::from_ref(&image)).write_tar(&tmp.path().join("docker.tar"));
    let loaded = archive::load(&store, &tar).unwrap();
    assert_eq!(loaded[0].name, "tool:1", "docker.io/library/ is implied");
    let tool = store.image("tool:1").unwrap();

    let saved = tmp.path().join("saved.tar");
    archive::save(&store, &["tool:1".into()], &saved).unwrap();
    let (_tmp2, other) = self::store();
    let back = archive::load(&other, &saved).unwrap();
    assert_eq!(back[0].name, "tool:1");
    let again = other.image("tool:1").unwrap();
    assert_eq!(again.layers, tool.layers);
    assert_eq!(again.config, tool.config);
    assert_eq!(again.history, tool.history);

    let oci_tar =
        oci_layout(&[TestImage::new("x", vec![top("x\n")])]).write_tar(&tmp.path().join("oci.tar"));
    assert_eq!(archive::load(&store, &oci_tar).unwrap()[0].name, "x");
}

#[test]
fn a_blob_whose_digest_does_not_match_is_named_and_nothing_is_kept() {
    vessel::require_root!();
    let (tmp, store) = store();
    let image = TestImage::new("bad", vec![base(), top("good\n")]);
    let mut files = oci_layout(&[image]);
    // Same size, other bytes: only the digest can tell.
    let top_blob = format!("blobs/sha256/{}", hex(&digest(&top("good\n"))));
    files.put(top_blob.clone(), top("evil\n"));
    let dir = files.write_dir(&tmp.path().join("layout"));
    let message = refused(&store, &dir);
    assert!(message.contains(&top_blob), "{message}");
    assert!(message.contains("has digest"), "{message}");
}

#[test]
fn a_truncated_blob_and_a_truncated_archive_are_refused() {
    vessel::require_root!();
    let (tmp, store) = store();
    let mut files =
        oci_layout(&[TestImage::new("cut", vec![base()]).compressed(Compression::Gzip)]);
    let name = files
        .0
        .keys()
        .find(|k| k.starts_with("blobs/") && files.0[*k].starts_with(&[0x1f, 0x8b]))
        .unwrap()
        .clone();
    let blob = files.0.get_mut(&name).unwrap();
    blob.truncate(blob.len() / 2);
    let dir = files.write_dir(&tmp.path().join("layout"));
    let message = refused(&store, &dir);
    assert!(
        message.contains(&name) && message.contains("bytes"),
        "{message}"
    );

    // A tar cut short in the middle of an entry.
    let whole =
        oci_layout(&[TestImage::new("cut", vec![base()])]).write_tar(&tmp.path().join("whole.tar"));
    let bytes = fs::read(&whole).unwrap();
    let cut = tmp.path().join("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let message = refused(&store, &cut);
    assert!(
        message.contains("cut short") || message.contains("EOF"),
        "{message}"
    );
}

#[test]
fn names_that_point_outside_the_archive_are_refused() {
    vessel::require_root!();
    let (tmp, store) = store();
    let outside = tmp.path().join("secret");
    fs::write(&outside, top("secret\n")).unwrap();
    for (i, bad) in [
        "../secret".to_owned(),
        outside.to_string_lossy().into_owned(),
        "a/../../secret".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let mut files = docker_archive(&[TestImage::new("x", vec![top("secret\n")])]);
        let manifest: serde_json::Value =
            serde_json::from_slice(&files.0["manifest.json"]).unwrap();
        let mut manifest = manifest;
        manifest[0]["Layers"][0] = bad.clone().into();
        files.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
        let dir = files.write_dir(&tmp.path().join(format!("docker{i}")));
        let message = refused(&store, &dir);
        assert!(
            message.contains("points outside the archive"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn symlinked_blobs_are_not_followed() {
    vessel::require_root!();
    let (tmp, store) = store();
    let layer_tar = top("secret\n");
    let files = oci_layout(&[TestImage::new("x", vec![layer_tar.clone()])]);
    // The blob is a symlink to a host file with exactly the right content.
    let dir = files.write_dir(&tmp.path().join("layout"));
    let blob = dir.join(format!("blobs/sha256/{}", hex(&digest(&layer_tar))));
    let host = tmp.path().join("host-file");
    fs::write(&host, &layer_tar).unwrap();
    fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink(&host, &blob).unwrap();
    let message = refused(&store, &dir);
    assert!(message.contains("symlink"), "{message}");

    // The whole blobs directory is a symlink to a directory elsewhere.
    let dir2 = files.write_dir(&tmp.path().join("layout2"));
    let elsewhere = tmp.path().join("elsewhere");
    fs::rename(dir2.join("blobs"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir2.join("blobs")).unwrap();
    let message = refused(&store, &dir2);
    assert!(message.contains("symlink"), "{message}");

    // Even a symlink that stays inside the layout is not followed: blobs are files.
    let dir3 = files.write_dir(&tmp.path().join("layout3"));
    fs::rename(dir3.join("blobs"), dir3.join("real-blobs")).unwrap();
    std::os::unix::fs::symlink("real-blobs", dir3.join("blobs")).unwrap();
    let message = refused(&store, &dir3);
    assert!(message.contains("symlink"), "{message}");
}

#[test]
fn a_huge_manifest_is_refused_before_it_is_read() {
    vessel::require_root!();
    let (tmp, store) = store();
    let mut files = oci_layout(&[TestImage::new("x", vec![top("x\n")])]);
    let mut index = files.0["index.json"].clone();
    index.pop();
    index.extend(std::iter::repeat_n(b' ', 5 << 20));
    index.push(b'}');
    files.put("index.json", index);
    let message = refused(&store, &files.write_tar(&tmp.path().join("huge.tar")));
    assert!(
        message.contains("index.json") && message.contains("more than"),
        "{message}"
    );
}

#[test]
fn a_layer_with_traversal_entries_writes_nothing_and_undoes_earlier_layers() {
    vessel::require_root!();
    let (tmp, store) = store();
    let victim = tmp.path().join("victim");
    let path = format!("../../../../../../../..{}", victim.display());
    let evil = layer(&[(path.as_str(), "owned\n")]);
    // The first layer is fine and new: it must not stay in the store either.
    let image = TestImage::new("evil", vec![top("fine\n"), evil]).compressed(Compression::Zstd);
    let tar = oci_layout(&[image]).write_tar(&tmp.path().join("evil.tar"));
    let message = refused(&store, &tar);
    assert!(message.contains(".."), "{message}");
    assert!(
        !victim.exists(),
        "a traversal entry wrote outside the store"
    );
}

#[test]
fn a_diff_id_that_does_not_match_the_layer_is_refused() {
    vessel::require_root!();
    let (tmp, store) = store();
    // A docker-archive has no blob digests: the config's diff_ids are the only check.
    let mut files = docker_archive(&[TestImage::new("x", vec![top("real\n")])]);
    let name = files
        .0
        .keys()
        .find(|k| k.ends_with("layer.tar"))
        .unwrap()
        .clone();
    files.put(name.clone(), top("fake\n"));
    let message = refused(&store, &files.write_dir(&tmp.path().join("d")));
    assert!(
        message.contains(&name) && message.contains("diff_ids"),
        "{message}"
    );
}

#[test]
fn something_that_is_no_image_archive_says_what_to_use_instead() {
    let (tmp, store) = store();
    let files = Files([("hello".to_owned(), b"x".to_vec())].into_iter().collect());
    let message = refused(&store, &files.write_tar(&tmp.path().join("plain.tar")));
    assert!(message.contains("vessel image import"), "{message}");
}

#[test]
fn tag_shares_layers_and_prune_removes_only_what_nothing_uses() {
    vessel::require_root!();
    let (tmp, store) = store();
    let images = [
        TestImage::new("keep:1", vec![base(), top("keep\n")]),
        TestImage::new("drop:1", vec![base(), top("drop\n")]),
    ];
    archive::load(
        &store,
        &oci_layout(&images).write_dir(&tmp.path().join("l")),
    )
    .unwrap();
    let tagged = store.tag("keep:1", "registry.example:5000/keep:2").unwrap();
    assert_eq!(tagged.layers, store.image("keep:1").unwrap().layers);
    let downloads = store.root().join("downloads");
    fs::create_dir_all(&downloads).unwrap();
    fs::write(
        downloads.join(format!("{}.partial", "a".repeat(64))),
        "half",
    )
    .unwrap();

    // Without --all: no image goes, so no layer goes; unfinished downloads do.
    let pruned = store.prune(false).unwrap();
    assert!(pruned.images.is_empty() && pruned.layers.is_empty());
    assert_eq!(pruned.downloads, 1);
    assert!(!downloads.exists());

    store.remove_image("drop:1").unwrap();
    let drop_top = vessel::layers::Digest::parse(&digest(&top("drop\n"))).unwrap();
    assert!(
        !store.layer_dir(&drop_top).exists(),
        "rm collects its own layer"
    );
    let pruned = store.prune(true).unwrap();
    assert_eq!(pruned.images, ["keep:1", "registry.example:5000/keep:2"]);
    assert_eq!(pruned.layers.len(), 2, "base and keep's top");
    assert!(store.images().unwrap().is_empty());
}
