//! OCI layer tars against a real file system: whiteouts and opaque directories survive
//! the trip to overlay's format and back exactly, and hostile tars are refused with
//! nothing written outside the layer directory.

mod layers_support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use layers_support::{Node, raw_header, set_raw_link, tree};
use tar::EntryType;
use vessel::layers::{self, SourceKind, whiteout};

/// An overlay-format directory: files, a symlink, a whiteout and an opaque directory.
fn overlay_format_tree(root: &Path) {
    fs::create_dir_all(root.join("etc/app")).unwrap();
    fs::write(root.join("etc/app/config"), "key = value\n").unwrap();
    fs::set_permissions(
        root.join("etc/app/config"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    fs::write(root.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o4755)).unwrap();
    xattr::set(root.join("run.sh"), "user.vessel.note", b"kept").unwrap();
    symlink("/etc/app/config", root.join("config-link")).unwrap();
    whiteout::make_overlay_whiteout(&root.join("etc/deleted")).unwrap();
    fs::create_dir(root.join("replaced")).unwrap();
    fs::write(root.join("replaced/only-new"), "new").unwrap();
    whiteout::set_opaque(&root.join("replaced")).unwrap();
}

fn pack(dir: &Path, tar: &Path, kind: SourceKind) -> layers::PackSummary {
    let out = fs::File::create(tar).unwrap();
    layers::pack_dir(dir, out, kind).unwrap()
}

#[test]
fn whiteouts_and_opaque_dirs_round_trip_exactly() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let upper = tmp.path().join("upper");
    fs::create_dir(&upper).unwrap();
    overlay_format_tree(&upper);

    let tar = tmp.path().join("layer.tar");
    let summary = pack(&upper, &tar, SourceKind::Overlay);
    assert_eq!((summary.whiteouts, summary.opaque_dirs), (1, 1));
    let names: Vec<String> = tar::Archive::new(fs::File::open(&tar).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"etc/.wh.deleted".to_owned()), "{names:?}");
    assert!(
        names.contains(&"replaced/.wh..wh..opq".to_owned()),
        "{names:?}"
    );

    let lower = tmp.path().join("lower");
    layers::unpack_layer(&tar, &lower).unwrap();
    assert_eq!(tree(&lower), tree(&upper));
    assert_eq!(tree(&lower)[Path::new("etc/deleted")], Node::Whiteout);
    let note = xattr::get(lower.join("run.sh"), "user.vessel.note").unwrap();
    assert_eq!(
        note.as_deref(),
        Some(&b"kept"[..]),
        "xattrs travel as PAX records"
    );

    // And back again: the same bytes, so the same digest.
    let again = tmp.path().join("again.tar");
    pack(&lower, &again, SourceKind::Overlay);
    assert_eq!(fs::read(&tar).unwrap(), fs::read(&again).unwrap());
}

#[test]
fn flattening_applies_whiteouts_and_opaque_dirs_to_the_layers_below() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    fs::create_dir_all(base.join("etc")).unwrap();
    fs::write(base.join("etc/deleted"), "old").unwrap();
    fs::write(base.join("etc/kept"), "kept").unwrap();
    fs::create_dir(base.join("replaced")).unwrap();
    fs::write(base.join("replaced/only-old"), "old").unwrap();
    let upper = tmp.path().join("upper");
    fs::create_dir(&upper).unwrap();
    overlay_format_tree(&upper);
    let (base_tar, upper_tar) = (tmp.path().join("base.tar"), tmp.path().join("upper.tar"));
    pack(&base, &base_tar, SourceKind::Plain);
    pack(&upper, &upper_tar, SourceKind::Overlay);

    let flat = tmp.path().join("flat");
    fs::create_dir(&flat).unwrap();
    layers::flatten(&[base_tar, upper_tar], &flat).unwrap();
    let flat = tree(&flat);
    assert!(!flat.contains_key(Path::new("etc/deleted")));
    assert!(flat.contains_key(Path::new("etc/kept")));
    assert!(!flat.contains_key(Path::new("replaced/only-old")));
    assert!(flat.contains_key(Path::new("replaced/only-new")));
    assert!(flat.values().all(|n| !matches!(n, Node::Whiteout)));
}

/// Unpacks a tar made of `entries` into `sandbox/layer` and returns the error; checks
/// that the layer directory is gone and `sandbox/outside` is untouched.
fn refused(entries: &[Entry]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("victim"), "untouched").unwrap();
    let tar_path = tmp.path().join("hostile.tar");
    let mut builder = tar::Builder::new(fs::File::create(&tar_path).unwrap());
    for (header, data) in entries {
        builder.append(header, &data[..]).unwrap();
    }
    builder.finish().unwrap();
    drop(builder);
    let layer = tmp.path().join("layer");
    let error = layers::unpack_layer(&tar_path, &layer).expect_err("a hostile tar must be refused");
    assert!(!layer.exists(), "the half-written layer must be removed");
    let mut after: Vec<PathBuf> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    after.sort();
    assert_eq!(after, [tmp.path().join("hostile.tar"), outside.clone()]);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    assert_eq!(
        fs::read_to_string(outside.join("victim")).unwrap(),
        "untouched"
    );
    vessel::cli::error_chain(&error)
}

/// One raw tar entry: its header and data.
type Entry = (tar::Header, Vec<u8>);

fn file(name: &[u8], data: &[u8]) -> Entry {
    (
        raw_header(name, EntryType::Regular, data.len() as u64),
        data.to_vec(),
    )
}

fn link(name: &[u8], kind: EntryType, target: &[u8]) -> Entry {
    let mut header = raw_header(name, kind, 0);
    set_raw_link(&mut header, target);
    (header, Vec::new())
}

#[test]
fn hostile_tars_are_refused_and_write_nothing_outside() {
    vessel::require_root!();
    let cases: Vec<(&str, Vec<Entry>, &str)> = vec![
        (
            "dot-dot",
            vec![file(b"../outside/victim", b"pwned")],
            "contains \"..\"",
        ),
        (
            "nested dot-dot",
            vec![file(b"a/../../outside/x", b"pwned")],
            "contains \"..\"",
        ),
        (
            "absolute path",
            vec![file(b"/tmp/x", b"pwned")],
            "absolute path",
        ),
        (
            "write through an absolute symlink",
            vec![
                link(b"esc", EntryType::Symlink, b"/tmp"),
                file(b"esc/x", b"pwned"),
            ],
            "through the symlink",
        ),
        (
            "relative symlink climbing out",
            vec![link(b"a", EntryType::Symlink, b"../outside")],
            "points outside the layer",
        ),
        (
            "hard link to a host file",
            vec![link(b"h", EntryType::Link, b"../outside/victim")],
            "contains \"..\"",
        ),
        (
            "hard link to a missing file",
            vec![link(b"h", EntryType::Link, b"etc/shadow")],
            "not in the layer",
        ),
        (
            "character device",
            vec![(raw_header(b"dev/mem", EntryType::Char, 0), Vec::new())],
            "device node",
        ),
        (
            "block device",
            vec![(raw_header(b"sda", EntryType::Block, 0), Vec::new())],
            "device node",
        ),
        (
            "huge long-name header",
            vec![(
                raw_header(b"././@LongLink", EntryType::GNULongName, 2 << 20),
                vec![b'a'; 2 << 20],
            )],
            "extension header of 2097152 bytes",
        ),
    ];
    for (what, entries, expected) in cases {
        let message = refused(&entries);
        assert!(message.contains(expected), "{what}: {message}");
        assert!(
            message.contains("nothing was written outside") || message.contains("not a valid tar"),
            "{what}: {message}"
        );
    }
}

#[test]
fn absolute_symlinks_inside_a_layer_are_kept_but_never_followed() {
    vessel::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let tar_path = tmp.path().join("ok.tar");
    let mut builder = tar::Builder::new(fs::File::create(&tar_path).unwrap());
    let (h, d) = link(b"bin/sh", EntryType::Symlink, b"/bin/busybox");
    builder
        .append(&raw_header(b"bin", EntryType::Directory, 0), &[][..])
        .unwrap();
    builder.append(&h, &d[..]).unwrap();
    builder.finish().unwrap();
    drop(builder);
    let layer = tmp.path().join("layer");
    layers::unpack_layer(&tar_path, &layer).unwrap();
    assert_eq!(
        fs::read_link(layer.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
}
