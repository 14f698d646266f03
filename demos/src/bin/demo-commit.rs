//! # Lesson: `commit` turns a container's changes into an image layer
//!
//! A container runs on an overlay of three kinds of layer: the image's read-only layers,
//! its own small **init layer** (`/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`,
//! which describe *this* container) and its writable **upper layer**, where every change
//! lands. `vessel commit` packs only the upper layer as a new OCI layer (a tar named by its
//! sha256) and makes an image of the old layers plus that one. Deletions travel as
//! whiteouts, so a container of the new image does not see deleted files either; the init
//! layer is not committed, so the next container gets its own hostname.
//!
//! Each commit adds a layer: this is what every Dockerfile instruction does. The lesson
//! commits twice and runs the resulting three-layer image.

use std::fs;
use std::path::Path;

use vessel::image::{self, ContainerFs, Image, Store};
use vessel::layers::whiteout;
use vessel::{ContainerSpec, Output};
use vessel_demos::layer_view::tar_entries;
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-commit";

fn main() {
    Lesson::run(
        NAME,
        "commit packs a container's writable layer (not its init layer) into a new image layer",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

/// Runs `script` in a new container `id` of `image`; its layers are kept for commit.
fn run_in(
    store: &Store,
    image: &Image,
    id: &str,
    script: &str,
) -> Result<(Output, ContainerFs), Box<dyn std::error::Error>> {
    let argv: Vec<String> = ["/bin/sh", "-c", script].map(String::from).to_vec();
    let layers = ContainerFs::create(store, &id.parse()?, image, id, &argv)?;
    let spec = ContainerSpec::new(layers.merged(), argv)
        .overlay(layers.overlay())
        .hostname(id);
    Ok((vessel::output(&spec)?, layers))
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("open an image store and its base image (the default rootfs as one layer)");
    let store = Store::open(scratch.join("store"))?;
    let base = store.image("base")?;
    lesson.see("store", store.root().display());
    lesson.see("base layers", short(&base));
    lesson.claim("the base image has one layer", base.layers.len() == 1);

    lesson.step("container A: write /greeting, delete /etc/os-release");
    lesson.syscall("overlay: lowerdir+ = init layer, base layer; upperdir = containers/A/upper");
    let (out, a) = run_in(
        &store,
        &base,
        "00000000000a",
        "echo hello > /greeting; rm /etc/os-release; cat /etc/hostname",
    )?;
    lesson.see("A's hostname (from its init layer)", out.stdout.trim());
    lesson.see("A's upper layer", listing(&a.upper()));
    lesson.see("A's init layer", listing(&a.init()));
    lesson.claim("A ran", out.status.success());
    lesson.claim(
        "A's init layer holds its /etc/hostname, /etc/hosts and /etc/resolv.conf",
        listing(&a.init()) == "etc/ etc/hostname etc/hosts etc/resolv.conf",
    );

    lesson.step("commit A as the image \"greeter\"");
    lesson.syscall("pack containers/A/upper as an OCI tar (whiteouts → .wh.NAME), sha256 it, unpack it once as a lower dir");
    let (greeter, summary) = image::commit(&store, &"00000000000a".parse()?, "greeter")?;
    let entries = tar_entries(&store.layer_tar(greeter.layers.last().expect("a new layer")))?;
    lesson.see("greeter layers", short(&greeter));
    lesson.see("new layer", entries.join(" "));
    lesson.claim(
        "greeter is base's layer plus one",
        greeter.layers.len() == 2 && greeter.layers[0] == base.layers[0],
    );
    lesson.claim(
        "the new layer has /greeting and the whiteout etc/.wh.os-release",
        entries.contains(&"greeting".to_owned())
            && entries.contains(&"etc/.wh.os-release".to_owned())
            && summary.whiteouts == 1,
    );
    lesson.claim(
        "the init layer's files were not committed",
        !entries
            .iter()
            .any(|e| ["etc/hostname", "etc/hosts", "etc/resolv.conf"].contains(&e.as_str())),
    );

    lesson.step("container B from greeter");
    let (out, b) = run_in(
        &store,
        &greeter,
        "00000000000b",
        "cat /greeting; test -e /etc/os-release && echo has-os-release; cat /etc/hostname; echo again >> /greeting",
    )?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    lesson.see("B says", lines.join(" | "));
    lesson.claim("B sees A's /greeting", lines.first() == Some(&"hello"));
    lesson.claim(
        "B does not see /etc/os-release: the deletion was committed too",
        !lines.contains(&"has-os-release"),
    );
    lesson.claim(
        "B has its own hostname, not A's",
        lines.get(1) == Some(&"00000000000b"),
    );

    lesson.step("commit B as \"greeter2\" and run the three-layer image");
    let (greeter2, _) = image::commit(&store, &"00000000000b".parse()?, "greeter2")?;
    let (out, c) = run_in(&store, &greeter2, "00000000000c", "cat /greeting")?;
    lesson.see("greeter2 layers", short(&greeter2));
    lesson.see("C says", out.stdout.lines().collect::<Vec<_>>().join(" | "));
    lesson.claim("greeter2 has three layers", greeter2.layers.len() == 3);
    lesson.claim(
        "a container of it sees both changes",
        out.stdout == "hello\nagain\n",
    );

    lesson.step("clean up: containers, then images; unused layers go with them");
    for layers in [a, b, c] {
        let id = layers.origin().id.clone();
        drop(layers); // the container has exited: stop marking it as running
        store.remove_container(&id)?;
    }
    for name in ["greeter2", "greeter"] {
        let removed = store.remove_image(name)?;
        lesson.see(
            &format!("removing {name} deleted"),
            format!("{} layer(s)", removed.len()),
        );
    }
    lesson.claim("no container is left", store.containers()?.is_empty());
    lesson.claim(
        "only the base layer is left",
        store
            .images()?
            .iter()
            .map(|i| i.layers.len())
            .sum::<usize>()
            == 1,
    );
    Ok(())
}

/// An image's layers by short digest, bottom first.
fn short(image: &Image) -> String {
    image
        .layers
        .iter()
        .map(|d| d.short().to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every path below `dir`, sorted, directories with a trailing `/` and overlay whiteouts
/// marked.
fn listing(dir: &Path) -> String {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let meta = fs::symlink_metadata(&path);
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else if meta.is_ok_and(|m| whiteout::is_overlay_whiteout(&m)) {
                out.push(format!("{rel}(whiteout)"));
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out.join(" ")
}
