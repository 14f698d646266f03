//! Image layers (vessel only): the lower layers never change, whiteouts and opaque
//! directories hide what they should, copy-up copies the whole file, and a commit
//! round-trips into an image that runs.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use vessel::image::{self, ContainerFs, Image, Store};
use vessel::layers::whiteout::{is_opaque, is_overlay_whiteout};

use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::runtime::{Finished, Request, vessel as adapter};
use crate::world::{BIG_FILE, BIG_FILE_LEN, DATA_DIR};

pub const CHECKS: [Check; 5] = [
    Check {
        area: "layers",
        name: "lower-never-modified",
        claim: "Deleting, changing and adding files in a container leaves the image's layer byte-for-byte unchanged.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: lower_never_modified,
    },
    Check {
        area: "layers",
        name: "whiteout-hides",
        claim: "A deleted file becomes a whiteout in the writable layer and stays hidden in the committed image.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: whiteout_hides,
    },
    Check {
        area: "layers",
        name: "opaque-dir-hides",
        claim: "A directory deleted and re-created is opaque: none of the lower layer's entries show through.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: opaque_dir_hides,
    },
    Check {
        area: "layers",
        name: "copy-up-whole-file",
        claim: "Appending to a lower file copies the whole file up: the writable layer holds all of it.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: copy_up_whole_file,
    },
    Check {
        area: "layers",
        name: "commit-round-trips",
        claim: "A commit adds exactly one layer without the init layer's files, and a container of it sees the changes.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: commit_round_trips,
    },
];

/// A store in a scratch directory with the test rootfs imported as one image.
fn store(ctx: &Ctx, name: &str) -> Result<(Store, Image), String> {
    let store = Store::open(ctx.world.scratch(name)?.join("store")).map_err(|e| e.to_string())?;
    let (image, _) = store
        .import(&ctx.world.rootfs, "conformance")
        .map_err(|e| format!("import the test rootfs: {e}"))?;
    Ok((store, image))
}

/// Runs `script` in a new container of `image` with id `id`; keeps its layers.
fn container(
    ctx: &Ctx,
    store: &Store,
    image: &Image,
    id: &str,
    script: &str,
) -> Result<(Finished, ContainerFs), String> {
    let argv = ["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()];
    let parsed = id
        .parse()
        .map_err(|e: vessel::state::InvalidId| e.to_string())?;
    let layers =
        ContainerFs::create(store, &parsed, image, id, &argv).map_err(|e| e.to_string())?;
    let mut request = Request::shell(script);
    request.rootfs = Some(layers.merged());
    request.hostname = Some(id.to_owned());
    let spec = adapter::spec_for(ctx.world, &request).overlay(layers.overlay());
    let finished = adapter::start_spec(&spec)?.finish()?;
    finished.success()?;
    Ok((finished, layers))
}

fn inside(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Every entry's path, type, mode, owner, size, mtime and content, hashed.
fn fingerprint(dir: &Path) -> Result<u64, String> {
    let mut hasher = DefaultHasher::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&current)
            .map_err(|e| format!("read {}: {e}", current.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
            (
                path.strip_prefix(dir).unwrap_or(&path),
                meta.mode(),
                meta.uid(),
                meta.gid(),
            )
                .hash(&mut hasher);
            (meta.size(), meta.mtime(), meta.mtime_nsec(), meta.rdev()).hash(&mut hasher);
            if meta.is_file() {
                fs::read(&path)
                    .map_err(|e| e.to_string())?
                    .hash(&mut hasher);
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(hasher.finish())
}

/// The entries of a layer tar: path and type.
fn tar_entries(tar: &Path) -> Result<Vec<(String, ::tar::EntryType)>, String> {
    let file = fs::File::open(tar).map_err(|e| format!("open {}: {e}", tar.display()))?;
    let mut archive = ::tar::Archive::new(file);
    let entries = archive
        .entries()
        .map_err(|e| format!("read {}: {e}", tar.display()))?;
    entries
        .map(|entry| {
            let entry = entry.map_err(|e| format!("read {}: {e}", tar.display()))?;
            let path = entry.path().map_err(|e| e.to_string())?;
            let name = path.display().to_string();
            Ok((
                name.trim_start_matches("./").to_owned(),
                entry.header().entry_type(),
            ))
        })
        .collect()
}

/// Fails unless the image's top layer tar holds `path` (an OCI whiteout entry: overlay's
/// own char-device whiteouts and xattrs mean nothing to another runtime) and no
/// device node.
fn has_entry(store: &Store, image: &Image, path: &str) -> Outcome {
    let top = store.layer_tar(image.layers.last().ok_or("no layers")?);
    let entries = tar_entries(&top)?;
    let devices: Vec<&String> = entries
        .iter()
        .filter(|(_, kind)| kind.is_character_special() || kind.is_block_special())
        .map(|(name, _)| name)
        .collect();
    ensure(devices.is_empty(), || {
        format!(
            "the committed layer holds device nodes {devices:?}: overlay whiteouts left unconverted"
        )
    })?;
    let want = path.trim_start_matches('/');
    ensure(entries.iter().any(|(name, _)| name == want), || {
        let names: Vec<&String> = entries.iter().map(|(name, _)| name).collect();
        format!("the committed layer has no OCI whiteout {want}: {names:?}")
    })
}

fn lower_never_modified(ctx: &Ctx) -> Outcome {
    let (store, image) = store(ctx, "layers-lower")?;
    let layer = store.layer_dir(&image.layers[0]);
    let before = fingerprint(&layer)?;
    let script = format!(
        "rm {DATA_DIR}/a && echo more >> {BIG_FILE} && echo new > /made && chmod 600 /etc/passwd && rm -r /home"
    );
    let (_, layers) = container(ctx, &store, &image, "00000000a001", &script)?;
    layers.remove().map_err(|e| e.to_string())?;
    ensure(fingerprint(&layer)? == before, || {
        format!("the image layer {} changed", layer.display())
    })
}

fn whiteout_hides(ctx: &Ctx) -> Outcome {
    let (store, image) = store(ctx, "layers-whiteout")?;
    let (_, first) = container(
        ctx,
        &store,
        &image,
        "00000000b001",
        &format!("rm {DATA_DIR}/a"),
    )?;
    let whiteout = inside(&first.upper(), &format!("{DATA_DIR}/a"));
    let meta = fs::symlink_metadata(&whiteout)
        .map_err(|e| format!("no whiteout at {}: {e}", whiteout.display()))?;
    ensure(is_overlay_whiteout(&meta), || {
        format!("{} is not a 0/0 character device", whiteout.display())
    })?;
    let (two, _) = image::commit(&store, &id("00000000b001"), "two").map_err(|e| e.to_string())?;
    first.remove().map_err(|e| e.to_string())?;
    has_entry(&store, &two, &format!("{DATA_DIR}/.wh.a"))?;
    let (out, second) = container(ctx, &store, &two, "00000000b002", &format!("ls {DATA_DIR}"))?;
    second.remove().map_err(|e| e.to_string())?;
    ensure(out.text() == "b\n", || {
        format!(
            "{DATA_DIR} in the committed image lists {:?}, expected only b",
            out.text()
        )
    })
}

fn opaque_dir_hides(ctx: &Ctx) -> Outcome {
    let (store, image) = store(ctx, "layers-opaque")?;
    let script =
        format!("rm -r {DATA_DIR} && mkdir {DATA_DIR} && echo n > {DATA_DIR}/new && ls {DATA_DIR}");
    let (out, first) = container(ctx, &store, &image, "00000000c001", &script)?;
    ensure(out.text() == "new\n", || {
        format!("the re-created directory lists {:?} inside", out.text())
    })?;
    let dir = inside(&first.upper(), DATA_DIR);
    ensure(is_opaque(&dir).unwrap_or(false), || {
        format!("{} has no trusted.overlay.opaque", dir.display())
    })?;
    let (two, _) = image::commit(&store, &id("00000000c001"), "two").map_err(|e| e.to_string())?;
    first.remove().map_err(|e| e.to_string())?;
    has_entry(&store, &two, &format!("{DATA_DIR}/.wh..wh..opq"))?;
    let (out, second) = container(ctx, &store, &two, "00000000c002", &format!("ls {DATA_DIR}"))?;
    second.remove().map_err(|e| e.to_string())?;
    ensure(out.text() == "new\n", || {
        format!(
            "{DATA_DIR} in the committed image lists {:?}, expected only new",
            out.text()
        )
    })
}

fn copy_up_whole_file(ctx: &Ctx) -> Outcome {
    let (store, image) = store(ctx, "layers-copy-up")?;
    let (_, layers) = container(
        ctx,
        &store,
        &image,
        "00000000d001",
        &format!("echo tail >> {BIG_FILE}"),
    )?;
    let upper = fs::read(inside(&layers.upper(), BIG_FILE)).map_err(|e| e.to_string());
    let lower = fs::read(inside(&ctx.world.rootfs, BIG_FILE)).map_err(|e| e.to_string())?;
    layers.remove().map_err(|e| e.to_string())?;
    let upper = upper?;
    ensure(upper.len() == BIG_FILE_LEN + 5, || {
        format!(
            "the copied-up file has {} bytes, expected {}",
            upper.len(),
            BIG_FILE_LEN + 5
        )
    })?;
    ensure(
        upper[..BIG_FILE_LEN] == lower[..] && &upper[BIG_FILE_LEN..] == b"tail\n",
        || {
            "the copied-up file's contents differ from the lower file plus the appended line"
                .to_owned()
        },
    )
}

fn commit_round_trips(ctx: &Ctx) -> Outcome {
    let (store, image) = store(ctx, "layers-commit")?;
    let script = format!("echo committed > /made && rm {DATA_DIR}/b");
    let (_, first) = container(ctx, &store, &image, "00000000e001", &script)?;
    let (round, _) =
        image::commit(&store, &id("00000000e001"), "round").map_err(|e| e.to_string())?;
    first.remove().map_err(|e| e.to_string())?;
    ensure(round.layers.len() == image.layers.len() + 1, || {
        format!(
            "the commit has {} layers, expected {}",
            round.layers.len(),
            image.layers.len() + 1
        )
    })?;
    let top = store.layer_tar(round.layers.last().ok_or("no layers")?);
    let entries = tar_entries(&top)?;
    let init: Vec<&str> = ["etc/hostname", "etc/hosts", "etc/resolv.conf"]
        .into_iter()
        .filter(|f| entries.iter().any(|(name, _)| name == f))
        .collect();
    ensure(init.is_empty(), || {
        format!("the init layer's {init:?} were committed")
    })?;
    let (out, second) = container(
        ctx,
        &store,
        &round,
        "00000000e002",
        &format!("cat /made; ls {DATA_DIR}; cat /etc/hostname"),
    )?;
    second.remove().map_err(|e| e.to_string())?;
    ensure(out.text() == "committed\na\n00000000e002\n", || {
        format!("a container of the commit printed {:?}", out.text())
    })
}

/// A container id written out in a check.
fn id(text: &str) -> vessel::state::ContainerId {
    text.parse().expect("the checks' ids keep the id rule")
}
