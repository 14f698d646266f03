//! One Dockerfile, built by `vessel build` and by `podman build` (buildah inside podman,
//! with runc as its runtime): both images must hold the same files in each layer they
//! add on top of the same busybox base — the same paths, file contents, symlink targets
//! and whiteouts, layer by layer.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use vessel_clients::docker_cli::DockerCli;
use vessel_clients::podman::{IMAGE, Podman};

/// What a layer holds: path → what is there (`dir`, `file:CONTENTS`, `link:TARGET`,
/// `whiteout`).
type Layer = BTreeMap<String, String>;

/// The Dockerfile both build, with `{BASE}` for the base image's name.
const DOCKERFILE: &str = r#"FROM {BASE}
ARG WHO=nobody
ENV GREETING="hello" WHO=$WHO
WORKDIR /app
COPY hello.txt ./
COPY dir /app/dir/
RUN echo "$GREETING $WHO" > /app/built && mkdir -p /var/cache/x && echo y > /var/cache/x/y
RUN rm /app/hello.txt && rm -r /var/cache/x
ADD bundle.tar /opt/
USER 1000
CMD ["cat", "/app/built"]
"#;

fn write_context(dir: &Path) {
    fs::create_dir_all(dir.join("dir/sub")).unwrap();
    fs::write(dir.join("hello.txt"), "hello\n").unwrap();
    fs::write(dir.join("dir/sub/deep"), "deep\n").unwrap();
    std::os::unix::fs::symlink("sub/deep", dir.join("dir/link")).unwrap();
    fs::write(dir.join("ignored.log"), "not copied\n").unwrap();
    fs::write(dir.join(".dockerignore"), "*.log\n").unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(4);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, "from-tar/x", &b"tar\n"[..])
        .unwrap();
    fs::write(dir.join("bundle.tar"), tar.into_inner().unwrap()).unwrap();
}

/// The entries of one uncompressed layer tar. Directories are kept by name only: their
/// times and the order of entries differ between builders and mean nothing here.
fn read_layer(reader: impl Read) -> Layer {
    let mut archive = tar::Archive::new(reader);
    let mut layer = Layer::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        if path.is_empty() {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        let what = match entry.header().entry_type() {
            tar::EntryType::Directory => "dir".to_owned(),
            tar::EntryType::Symlink => format!(
                "link:{}",
                entry.link_name().unwrap().unwrap_or_default().display()
            ),
            _ if name.starts_with(".wh.") => "whiteout".to_owned(),
            _ => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                format!("file:{}", String::from_utf8_lossy(&bytes))
            }
        };
        layer.insert(path, what);
    }
    layer
}

/// The layers vessel's image adds to its base.
fn vessel_layers(work: &Path, context: &Path) -> Vec<Layer> {
    let root = work.join("vessel-root");
    let dockerfile = work.join("Dockerfile.vessel");
    fs::write(&dockerfile, DOCKERFILE.replace("{BASE}", "base")).unwrap();
    let out = Command::new(vessel_clients::runtime::vessel().unwrap())
        .arg("--root")
        .arg(&root)
        .args(["build", "-t", "compare", "--build-arg", "WHO=world", "-f"])
        .arg(&dockerfile)
        .arg(context)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vessel build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = vessel::image::Store::open(&root).unwrap();
    let image = store.image("compare").unwrap();
    let layers = image.layers[1..]
        .iter()
        .map(|d| read_layer(fs::File::open(store.layer_tar(d)).unwrap()))
        .collect();
    fs::remove_dir_all(&root).unwrap();
    layers
}

/// The layers podman's image adds to its base, read from `podman save --format docker-dir`
/// (uncompressed layer tars and a manifest listing them in order).
fn podman_layers(podman: &Podman, context: &Path) -> Vec<Layer> {
    let dockerfile = podman.dir("Dockerfile.podman");
    fs::write(&dockerfile, DOCKERFILE.replace("{BASE}", IMAGE)).unwrap();
    let (dockerfile, context) = (
        dockerfile.to_string_lossy().into_owned(),
        context.to_string_lossy().into_owned(),
    );
    podman.ok(&[
        "build",
        "--network",
        "none",
        "--layers",
        "--build-arg",
        "WHO=world",
        "-t",
        "localhost/compare",
        "-f",
        &dockerfile,
        &context,
    ]);
    let saved = podman.dir("saved");
    let saved_text = saved.to_string_lossy().into_owned();
    podman.ok(&[
        "save",
        "--format",
        "docker-dir",
        "-o",
        &saved_text,
        "localhost/compare",
    ]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(saved.join("manifest.json")).unwrap()).unwrap();
    let layers: Vec<Layer> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let digest = l["digest"].as_str().unwrap();
            let hex = digest.trim_start_matches("sha256:");
            read_layer(fs::File::open(saved.join(hex)).unwrap())
        })
        .collect();
    fs::remove_dir_all(&saved).unwrap();
    layers[1..]
        .iter()
        .map(|layer| {
            // buildah leaves empty mount-point files behind in the first RUN's layer for
            // the files it bind-mounts into RUN containers; vessel keeps those in the
            // init layer, which is never committed, so they are not part of the comparison.
            let mut layer = layer.clone();
            for placeholder in [
                "etc/hostname",
                "etc/hosts",
                "etc/resolv.conf",
                "run/.containerenv",
            ] {
                if layer.get(placeholder).is_some_and(|w| w == "file:") {
                    layer.remove(placeholder);
                    // …and the directory that then holds nothing this layer changed.
                    let parent = placeholder.split('/').next().unwrap_or_default();
                    let prefix = format!("{parent}/");
                    if !layer.keys().any(|k| k.starts_with(&prefix)) {
                        layer.remove(parent);
                    }
                }
            }
            layer
        })
        .collect()
}

/// A layer's files, symlinks and whiteouts, with the directories that only hold them
/// left out (builders differ in which parent directories they record).
fn contents(layer: &Layer) -> BTreeMap<&str, &str> {
    layer
        .iter()
        .filter(|(path, what)| {
            *what != "dir" || !layer.keys().any(|k| k.starts_with(&format!("{path}/")))
        })
        .map(|(p, w)| (p.as_str(), w.as_str()))
        .collect()
}

#[test]
fn vessel_and_podman_build_the_same_files_in_each_layer() {
    let podman = match vessel_clients::runtime::runc().and_then(|runc| Podman::new(&runc)) {
        Ok(podman) => podman,
        Err(skip) => return skip.report("vessel_and_podman_build_the_same_files_in_each_layer"),
    };
    let work = tempfile::tempdir().unwrap();
    let context = work.path().join("context");
    write_context(&context);

    let ours = vessel_layers(work.path(), &context);
    let theirs = podman_layers(&podman, &context);
    assert_eq!(
        ours.len(),
        theirs.len(),
        "one layer per COPY, RUN and ADD in both:\nvessel {ours:#?}\npodman {theirs:#?}"
    );
    for (n, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(contents(ours), contents(theirs), "layer {n} differs");
    }
    // The steps that were compared: the copy, the run that made files, the deletions
    // (as whiteouts), the unpacked tar.
    assert_eq!(contents(&ours[0])["app/hello.txt"], "file:hello\n");
    assert_eq!(contents(&ours[2])["app/built"], "file:hello world\n");
    assert_eq!(contents(&ours[3])["app/.wh.hello.txt"], "whiteout");
    assert_eq!(contents(&ours[4])["opt/from-tar/x"], "file:tar\n");
}
