//! # Lesson: a Dockerfile is a stack of layers, and the cache is a chain of keys
//!
//! `vessel build` carries out a Dockerfile one instruction at a time, each starting
//! from the image so far. An instruction that changes files (RUN, COPY, ADD) works in a
//! container of that image, and the container's writable layer becomes a new read-only
//! layer: a tar you can list. One that only changes the config (ENV, WORKDIR, CMD, …)
//! adds a line to the image's history and no layer.
//!
//! Each step is keyed by its parent's key, its instruction and the digest of what it
//! copies, so building the same inputs again reuses every layer, and editing one copied
//! file rebuilds from that step on. A file deleted in a later layer does not leave the
//! image: the later layer only holds a *whiteout* (`.wh.NAME`) that hides it, and the
//! bytes stay in the earlier layer.
//!
//! Every layer is one more overlay lower directory, and the kernel stacks only so many.
//! The lesson measures that number on the running kernel instead of repeating one.

use std::fs;
use std::path::Path;

use vessel::ContainerSpec;
use vessel::image::build::{BuildOptions, Built, build, mounted};
use vessel::image::{ContainerFs, Image, Store};
use vessel::layers::{MAX_LOWER_LAYERS, OverlayRootfs};
use vessel_demos::layer_view::tar_entries;
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-build-layers";

// ANCHOR: dockerfile
const DOCKERFILE: &str = r#"FROM base
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY app.txt ./
RUN echo built > built.txt && rm /etc/os-release
COPY scratch.txt /tmp/scratch.txt
RUN rm /tmp/scratch.txt
CMD ["cat", "/app/app.txt"]
"#;
// ANCHOR_END: dockerfile

fn main() {
    Lesson::run(
        NAME,
        "each file-changing Dockerfile instruction adds one layer; a second build reuses them",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("a build context and its Dockerfile");
    let store = Store::open(scratch.join("store"))?;
    let context = scratch.join("context");
    fs::create_dir_all(&context)?;
    fs::write(context.join("app.txt"), "version 1\n")?;
    fs::write(context.join("scratch.txt"), "a big temporary file\n")?;
    fs::write(context.join("Dockerfile"), DOCKERFILE)?;
    for line in DOCKERFILE.lines() {
        lesson.note(&format!("| {line}"));
    }
    let options = BuildOptions {
        tag: "app".into(),
        dockerfile: context.join("Dockerfile"),
        context: context.clone(),
        build_args: Default::default(),
        no_cache: false,
    };

    lesson.step("build it: each instruction, and the layer it added");
    lesson.syscall("RUN: clone3 a container on the image so far; COPY: overlay mounted in a build thread's own mount namespace; then pack upper/ as a tar");
    let first = build(&store, &options, &mut |_| {})?;
    show_steps(lesson, &store, &first)?;
    let base = store.image("base")?;
    let file_steps = first.steps.iter().filter(|s| s.layer.is_some()).count();
    lesson.claim(
        "RUN and COPY each added one layer; ENV, WORKDIR and CMD added none",
        first.steps.iter().all(|s| {
            s.layer.is_some()
                == (s.instruction.starts_with("RUN") || s.instruction.starts_with("COPY"))
        }),
    );
    lesson.claim(
        "the image is base's layer plus one per RUN or COPY",
        first.image.layers.len() == base.layers.len() + file_steps && file_steps == 4,
    );
    lesson.see(
        "history (instruction, layer?)",
        first
            .image
            .history
            .iter()
            .map(|h| {
                format!(
                    "{}{}",
                    h.created_by,
                    if h.empty_layer { "" } else { " [layer]" }
                )
            })
            .collect::<Vec<_>>()
            .join(" | "),
    );

    lesson.step("build it again: every step is a cache hit");
    let second = build(&store, &options, &mut |_| {})?;
    lesson.see("layer steps", hit_or_miss(&second).join(" "));
    lesson.claim(
        "every layer step came from the cache, and the image has the same layers",
        second
            .steps
            .iter()
            .filter(|s| s.layer.is_some())
            .all(|s| s.cached)
            && second.image.layers == first.image.layers,
    );

    lesson.step("edit app.txt and build again: the cache misses from that COPY on");
    fs::write(context.join("app.txt"), "version 2\n")?;
    let third = build(&store, &options, &mut |_| {})?;
    let hits = hit_or_miss(&third);
    lesson.see("layer steps", hits.join(" "));
    lesson.claim(
        "COPY app.txt and everything after it were rebuilt",
        hits == ["miss", "miss", "miss", "miss"],
    );

    lesson.step("the file deleted in a later layer is a whiteout, not a deletion");
    let copy_layer = &first.image.layers[base.layers.len() + 2];
    let rm_layer = &first.image.layers[base.layers.len() + 3];
    let copied = tar_entries(&store.layer_tar(copy_layer))?;
    let removed = tar_entries(&store.layer_tar(rm_layer))?;
    lesson.see("COPY scratch.txt layer", copied.join(" "));
    lesson.see("RUN rm layer", removed.join(" "));
    lesson.claim(
        "the RUN rm layer holds only the whiteout tmp/.wh.scratch.txt",
        removed.contains(&"tmp/.wh.scratch.txt".to_owned())
            && !removed.contains(&"tmp/scratch.txt".to_owned()),
    );
    lesson.claim(
        "the bytes are still in the earlier layer: deleting later does not shrink the image",
        copied.contains(&"tmp/scratch.txt".to_owned()),
    );
    let out = run_in(
        &store,
        &first.image,
        "test -e /tmp/scratch.txt && echo scratch.txt present || echo no scratch.txt; cat /app/app.txt /app/built.txt",
    )?;
    lesson.see("a container of the image", out.trim().replace('\n', " | "));
    lesson.claim(
        "a container does not see /tmp/scratch.txt, and sees what RUN and COPY made",
        out.contains("no scratch.txt") && out.contains("version 1") && out.contains("built"),
    );

    lesson.step("how many layers can overlay stack? measured, not assumed");
    lesson.syscall(
        "fsopen(\"overlay\"); fsconfig(FSCONFIG_SET_STRING, \"lowerdir+\", …) × N; fsmount",
    );
    let (max, error) = max_lower_layers(&scratch.join("stack"))?;
    lesson.see("largest N that mounts", max);
    lesson.see("N + 1 fails with", &error);
    lesson.claim(
        &format!("vessel's MAX_LOWER_LAYERS ({MAX_LOWER_LAYERS}) is what this kernel accepts"),
        max == MAX_LOWER_LAYERS,
    );
    lesson.note("an image may use one layer less: each container adds its own init layer");
    Ok(())
}

/// For each step that makes a layer: whether the cache supplied it.
fn hit_or_miss(built: &Built) -> Vec<&'static str> {
    built
        .steps
        .iter()
        .filter(|s| s.layer.is_some())
        .map(|s| if s.cached { "hit" } else { "miss" })
        .collect()
}

/// Each step: its instruction and the entries of the layer it added.
fn show_steps(lesson: &Lesson, store: &Store, built: &Built) -> Outcome {
    for step in &built.steps {
        match &step.layer {
            Some(layer) => {
                let entries = tar_entries(&store.layer_tar(layer))?;
                lesson.see(
                    &step.instruction,
                    format!("layer {}: {}", layer.short(), entries.join(" ")),
                );
            }
            None => lesson.see(&step.instruction, "no layer"),
        }
    }
    Ok(())
}

/// Runs `script` in a throw-away container of `image`; returns its stdout.
fn run_in(
    store: &Store,
    image: &Image,
    script: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let argv: Vec<String> = ["/bin/sh", "-c", script].map(String::from).to_vec();
    let id = "00000000b11d";
    let layers = ContainerFs::create(store, &id.parse()?, image, id, &argv)?;
    let spec = ContainerSpec::new(layers.merged(), argv)
        .overlay(layers.overlay())
        .hostname(id);
    let out = vessel::output(&spec);
    layers.remove()?;
    Ok(out?.stdout)
}

// ANCHOR: measure
/// The most lower layers an overlay mount accepts here, found by bisection over
/// `1..=1024` empty layers, and the error one more gives.
fn max_lower_layers(dir: &Path) -> Result<(usize, String), Box<dyn std::error::Error>> {
    const CEILING: usize = 1024;
    let layer = |n: usize| dir.join("l").join(n.to_string());
    for n in 0..=CEILING {
        fs::create_dir_all(layer(n))?;
    }
    let (upper, work, merged) = (dir.join("upper"), dir.join("work"), dir.join("merged"));
    for d in [&upper, &work, &merged] {
        fs::create_dir_all(d)?;
    }
    let mounts = |n: usize| {
        let overlay = OverlayRootfs {
            lowers: (0..n).map(layer).collect(),
            upper: upper.clone(),
            work: work.clone(),
        };
        mounted::in_merged(&overlay, &merged, |_| Ok(()))
    };
    let (mut good, mut bad) = (1, CEILING + 1);
    while bad - good > 1 {
        let mid = (good + bad) / 2;
        if mounts(mid).is_ok() {
            good = mid;
        } else {
            bad = mid;
        }
    }
    let error = match mounts(good + 1) {
        Ok(()) => "nothing (the ceiling was reached)".to_owned(),
        // The kernel's errno, by kind: EINVAL reads "invalid input parameter".
        Err(e) => e.kind().to_string(),
    };
    fs::remove_dir_all(dir)?;
    Ok((good, error))
}
// ANCHOR_END: measure
