//! The union filesystem against a model: random sequences of file operations applied to
//! a real overlay merged directory and to an in-memory tree must agree, and the upper
//! layer, committed as an OCI tar, imported and flattened onto the lower layer, must
//! give back exactly the merged tree.

mod layers_support;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use layers_support::{Node, tree};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use vessel::layers::{self, Digest, OverlayMount, OverlayRootfs, SourceKind};

/// Paths the operations pick from: every path of one to three components named a or b
/// (few names, so operations often meet: delete then re-create, rmdir then mkdir).
fn pool() -> Vec<PathBuf> {
    let names = ["a", "b"];
    let mut paths: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
    for depth in 0..2 {
        let previous: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.components().count() == depth + 1)
            .cloned()
            .collect();
        for p in previous {
            for n in names {
                paths.push(p.join(n));
            }
        }
    }
    paths
}

/// Modes a file may get.
const FILE_MODES: [u32; 5] = [0o644, 0o600, 0o755, 0o400, 0o640];
/// Modes a directory may get (always searchable by its owner, so tests can walk it).
const DIR_MODES: [u32; 4] = [0o755, 0o700, 0o750, 0o777];

/// A random operation. Each `usize` picks, modulo their number, one of the paths the
/// operation can apply to at that moment, so nearly every operation does something.
#[derive(Debug, Clone)]
enum Op {
    Create(usize, Vec<u8>, usize),
    Write(usize, Vec<u8>),
    Append(usize, Vec<u8>),
    Delete(usize),
    Mkdir(usize, usize),
    Rmdir(usize),
    Rename(usize, usize),
    Chmod(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let pick = 0..1024usize;
    let content =
        proptest::collection::vec(prop_oneof![Just(b'x'), Just(b'y'), Just(b'\n')], 0..48);
    prop_oneof![
        3 => (pick.clone(), content.clone(), 0..FILE_MODES.len()).prop_map(|(p, c, m)| Op::Create(p, c, m)),
        2 => (pick.clone(), content.clone()).prop_map(|(p, c)| Op::Write(p, c)),
        2 => (pick.clone(), content).prop_map(|(p, c)| Op::Append(p, c)),
        2 => pick.clone().prop_map(Op::Delete),
        3 => (pick.clone(), 0..DIR_MODES.len()).prop_map(|(p, m)| Op::Mkdir(p, m)),
        2 => pick.clone().prop_map(Op::Rmdir),
        2 => (pick.clone(), pick.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (pick, 0..FILE_MODES.len()).prop_map(|(p, m)| Op::Chmod(p, m)),
    ]
}

/// An operation resolved to concrete paths.
#[derive(Debug, Clone)]
enum Act {
    Create(PathBuf, Vec<u8>, u32),
    Write(PathBuf, Vec<u8>),
    Append(PathBuf, Vec<u8>),
    Delete(PathBuf),
    Mkdir(PathBuf, u32),
    Rmdir(PathBuf),
    Rename(PathBuf, PathBuf),
    Chmod(PathBuf, u32),
}

/// The model: what a POSIX file system holds after the operations.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Model {
    File(Vec<u8>, u32),
    Dir(u32),
}

type Tree = BTreeMap<PathBuf, Model>;

fn parent_is_dir(model: &Tree, path: &Path) -> bool {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => true,
        Some(p) => matches!(model.get(p), Some(Model::Dir(_))),
        None => false,
    }
}

fn children(model: &Tree, dir: &Path) -> Vec<PathBuf> {
    model
        .keys()
        .filter(|k| k.starts_with(dir) && *k != dir)
        .cloned()
        .collect()
}

fn pick(candidates: Vec<PathBuf>, i: usize) -> Option<PathBuf> {
    (!candidates.is_empty()).then(|| candidates[i % candidates.len()].clone())
}

/// Chooses the paths for `op` from what the model holds now; `None` if none fits.
fn resolve(model: &Tree, op: &Op, paths: &[PathBuf]) -> Option<Act> {
    let free = || -> Vec<PathBuf> {
        paths
            .iter()
            .filter(|p| !model.contains_key(*p) && parent_is_dir(model, p))
            .cloned()
            .collect()
    };
    let files = || -> Vec<PathBuf> {
        model
            .iter()
            .filter(|(_, n)| matches!(n, Model::File(..)))
            .map(|(p, _)| p.clone())
            .collect()
    };
    Some(match op {
        Op::Create(i, content, m) => {
            Act::Create(pick(free(), *i)?, content.clone(), FILE_MODES[*m])
        }
        Op::Write(i, content) => Act::Write(pick(files(), *i)?, content.clone()),
        Op::Append(i, content) => Act::Append(pick(files(), *i)?, content.clone()),
        Op::Delete(i) => Act::Delete(pick(files(), *i)?),
        Op::Mkdir(i, m) => Act::Mkdir(pick(free(), *i)?, DIR_MODES[*m]),
        Op::Rmdir(i) => {
            let empty = model
                .iter()
                .filter(|(p, n)| matches!(n, Model::Dir(_)) && children(model, p).is_empty())
                .map(|(p, _)| p.clone())
                .collect();
            Act::Rmdir(pick(empty, *i)?)
        }
        Op::Rename(i, j) => {
            let from = pick(model.keys().cloned().collect(), *i)?;
            let is_file = matches!(model[&from], Model::File(..));
            let targets = paths
                .iter()
                .filter(|t| **t != from && !t.starts_with(&from) && parent_is_dir(model, t))
                .filter(|t| match model.get(*t) {
                    None => true,
                    Some(Model::File(..)) => is_file,
                    Some(Model::Dir(_)) => false,
                })
                .cloned()
                .collect();
            Act::Rename(from, pick(targets, *j)?)
        }
        Op::Chmod(i, m) => {
            let path = pick(model.keys().cloned().collect(), *i)?;
            let mode = match model[&path] {
                Model::File(..) => FILE_MODES[*m],
                Model::Dir(_) => DIR_MODES[*m % DIR_MODES.len()],
            };
            Act::Chmod(path, mode)
        }
    })
}

fn apply_model(model: &mut Tree, act: &Act) {
    match act {
        Act::Create(p, content, mode) => {
            model.insert(p.clone(), Model::File(content.clone(), *mode));
        }
        Act::Write(p, content) | Act::Append(p, content) => {
            let Some(Model::File(data, _)) = model.get_mut(p) else {
                unreachable!()
            };
            if matches!(act, Act::Write(..)) {
                data.clear();
            }
            data.extend_from_slice(content);
        }
        Act::Delete(p) | Act::Rmdir(p) => {
            model.remove(p);
        }
        Act::Mkdir(p, mode) => {
            model.insert(p.clone(), Model::Dir(*mode));
        }
        Act::Rename(from, to) => {
            let node = model.remove(from).unwrap();
            let moved: Vec<(PathBuf, Model)> = children(model, from)
                .into_iter()
                .map(|c| {
                    let node = model.remove(&c).unwrap();
                    (to.join(c.strip_prefix(from).unwrap()), node)
                })
                .collect();
            model.insert(to.clone(), node);
            model.extend(moved);
        }
        Act::Chmod(p, new) => match model.get_mut(p) {
            Some(Model::File(_, mode)) | Some(Model::Dir(mode)) => *mode = *new,
            None => unreachable!(),
        },
    }
}

fn chmod(path: &Path, mode: u32) -> std::io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Does `act` to the real directory `root`.
fn apply_real(root: &Path, act: &Act) -> std::io::Result<()> {
    match act {
        Act::Create(p, content, mode) => {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(root.join(p))?
                .write_all(content)?;
            chmod(&root.join(p), *mode)
        }
        Act::Write(p, content) => OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(root.join(p))?
            .write_all(content),
        Act::Append(p, content) => OpenOptions::new()
            .append(true)
            .open(root.join(p))?
            .write_all(content),
        Act::Delete(p) => fs::remove_file(root.join(p)),
        Act::Mkdir(p, mode) => {
            fs::create_dir(root.join(p))?;
            chmod(&root.join(p), *mode)
        }
        Act::Rmdir(p) => fs::remove_dir(root.join(p)),
        Act::Rename(from, to) => match fs::rename(root.join(from), root.join(to)) {
            // overlayfs without redirect_dir cannot rename a directory that exists in a
            // lower layer; like mv(1), copy it and delete the original.
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                copy_tree(&root.join(from), &root.join(to))?;
                fs::remove_dir_all(root.join(from))
            }
            other => other,
        },
        Act::Chmod(p, mode) => chmod(&root.join(p), *mode),
    }
}

/// Resolves and applies each operation to the model and to `root`.
fn run_ops(model: &mut Tree, ops: &[Op], paths: &[PathBuf], root: &Path, layer: &str) {
    for op in ops {
        if let Some(act) = resolve(model, op, paths) {
            apply_model(model, &act);
            apply_real(root, &act).unwrap_or_else(|e| panic!("{layer}: {act:?}: {e}"));
        }
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    fs::set_permissions(to, fs::metadata(from)?.permissions())
}

fn model_as_tree(model: &Tree) -> BTreeMap<PathBuf, Node> {
    model
        .iter()
        .map(|(p, n)| {
            let node = match n {
                Model::File(content, mode) => Node::File {
                    content: content.clone(),
                    mode: *mode,
                },
                Model::Dir(mode) => Node::Dir {
                    mode: *mode,
                    opaque: false,
                },
            };
            (p.clone(), node)
        })
        .collect()
}

/// How many cases left a whiteout or an opaque directory in the upper layer: the test
/// is only worth something if the operations really produce them.
static WITH_WHITEOUTS: AtomicUsize = AtomicUsize::new(0);
static WITH_OPAQUE_DIRS: AtomicUsize = AtomicUsize::new(0);

fn overlay_mounts() -> usize {
    vessel::test_support::host_mounts()
        .iter()
        .filter(|l| l.contains(" - overlay "))
        .count()
}

fn check_case(lower_ops: &[Op], merged_ops: &[Op]) -> Result<(), TestCaseError> {
    let paths = pool();
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let d = tmp.path().join(name);
        fs::create_dir(&d).unwrap();
        d
    };
    let (lower, upper, work, merged) = (dir("lower"), dir("upper"), dir("work"), dir("merged"));

    let mut model = Tree::new();
    run_ops(&mut model, lower_ops, &paths, &lower, "lower");
    let rootfs = OverlayRootfs {
        lowers: vec![lower.clone()],
        upper: upper.clone(),
        work,
    };
    let mount = OverlayMount::mount(&rootfs, &merged).expect("mount overlay");
    run_ops(&mut model, merged_ops, &paths, &merged, "merged");
    let merged_tree = tree(&merged);
    let upper_tree = tree(&upper);
    if upper_tree.values().any(|n| matches!(n, Node::Whiteout)) {
        WITH_WHITEOUTS.fetch_add(1, Ordering::Relaxed);
    }
    if upper_tree
        .values()
        .any(|n| matches!(n, Node::Dir { opaque: true, .. }))
    {
        WITH_OPAQUE_DIRS.fetch_add(1, Ordering::Relaxed);
    }
    mount.unmount().expect("unmount overlay");
    prop_assert_eq!(
        &merged_tree,
        &model_as_tree(&model),
        "merged differs from the model"
    );

    // commit: the upper layer as an OCI tar; import: unpacked into overlay's format
    // again; flatten: the lower layer's tar, then the re-packed import, on a plain dir.
    let base_tar = tmp.path().join("base.tar");
    layers::pack_dir(
        &lower,
        fs::File::create(&base_tar).unwrap(),
        SourceKind::Plain,
    )
    .unwrap();
    let commit_tar = tmp.path().join("commit.tar");
    layers::pack_dir(
        &upper,
        fs::File::create(&commit_tar).unwrap(),
        SourceKind::Overlay,
    )
    .unwrap();
    let imported = tmp.path().join("imported");
    layers::unpack_layer(&commit_tar, &imported).unwrap();
    let reimported_tar = tmp.path().join("reimported.tar");
    layers::pack_dir(
        &imported,
        fs::File::create(&reimported_tar).unwrap(),
        SourceKind::Overlay,
    )
    .unwrap();
    prop_assert_eq!(
        Digest::of_file(&commit_tar).unwrap(),
        Digest::of_file(&reimported_tar).unwrap(),
        "the imported layer does not pack back to the same bytes"
    );
    let flat = dir("flat");
    layers::flatten(&[base_tar, reimported_tar], &flat).unwrap();
    prop_assert_eq!(
        tree(&flat),
        merged_tree,
        "commit → import → flatten differs from merged"
    );
    Ok(())
}

#[test]
fn overlay_matches_the_model_and_commit_import_flatten_matches_overlay() {
    vessel::require_root!();
    let before = overlay_mounts();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let ops = (
        proptest::collection::vec(op(), 0..24),
        proptest::collection::vec(op(), 0..40),
    );
    let result = runner.run(&ops, |(lower_ops, merged_ops)| {
        check_case(&lower_ops, &merged_ops)
    });
    assert_eq!(overlay_mounts(), before, "an overlay mount was left behind");
    if let Err(e) = result {
        panic!("{e}");
    }
    let (whiteouts, opaque) = (
        WITH_WHITEOUTS.load(Ordering::Relaxed),
        WITH_OPAQUE_DIRS.load(Ordering::Relaxed),
    );
    assert!(
        whiteouts >= 8 && opaque >= 8,
        "too few cases exercised deletions: {whiteouts} with whiteouts, {opaque} with opaque dirs"
    );
}
