//! Making and removing one container's directory in one hierarchy: `<own>/vessel/<id>`
//! (or `<parent>/<id>` with `--cgroup-parent`). A cgroup *is* a directory: `mkdir` creates
//! it with all its files, `rmdir` removes it once no process is left inside.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::{CgroupError, CgroupStep, Result};

/// The directory vessel puts its containers in, under the caller's own cgroup. It is
/// made once and kept: removing it with the last container and making it again with the
/// next cost a `mkdir` and an `rmdir` per hierarchy and start. Nothing in vessel removes
/// it (an empty cgroup directory holds no process and no limit); `rmdir` does, by hand.
pub const DEFAULT_PARENT: &str = "vessel";

/// How often creation is retried when a parent directory went between our `mkdir`s
/// (vessel keeps its shared parent, but an older vessel removed it with its last
/// container, and an administrator may still).
const CREATE_ATTEMPTS: usize = 5;

/// A container's directory in one hierarchy, and the directories made on the way.
#[derive(Debug)]
pub struct Placed {
    /// The container's own cgroup directory.
    pub dir: PathBuf,
    /// Directories between our own cgroup and `dir` (outermost first) that this
    /// creation made and that go again when empty: the ones a `--cgroup-parent` named.
    /// Never vessel's shared parent [`DEFAULT_PARENT`], which stays.
    pub parents: Vec<PathBuf>,
}

/// Where the container's cgroup goes: `own/parent/name` for a relative `parent`,
/// `mount/parent/name` for an absolute one.
pub fn container_dir(mount: &Path, own: &Path, parent: Option<&Path>, name: &str) -> PathBuf {
    match parent {
        None => own.join(DEFAULT_PARENT).join(name),
        Some(p) if p.is_absolute() => mount.join(p.strip_prefix("/").unwrap_or(p)).join(name),
        Some(p) => own.join(p).join(name),
    }
}

/// Checks a cgroup name and parent before anything is created.
pub fn check_names(parent: Option<&Path>, name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(format!(
            "cgroup name {name:?} must be one path component (letters, digits, '-', '_')"
        ));
    }
    if let Some(parent) = parent {
        if parent
            .components()
            .any(|c| matches!(c, Component::ParentDir))
        {
            return Err(format!(
                "--cgroup-parent {}: '..' is not allowed (name a cgroup below yours, or an absolute one)",
                parent.display()
            ));
        }
        if parent
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::CurDir))
        {
            return Err(format!(
                "--cgroup-parent {}: containers never go at a hierarchy's root (name a cgroup such as vessel)",
                parent.display()
            ));
        }
    }
    Ok(())
}

// ANCHOR: create
/// Creates `dir` and any missing parent below `base`, calling `prepare` on each directory
/// from `base` down, outermost first (v1 cpuset needs its CPUs and memory nodes copied
/// from the parent before anything can join). `shared_default` says `dir`'s parent is
/// vessel's shared [`DEFAULT_PARENT`]: made when missing, kept when the container goes.
///
/// The parents nearly always exist (the shared one is never removed), so the first try
/// is one `mkdir` of `dir` itself; only its `ENOENT` makes the parents. And since `dir`
/// exists before any parent is prepared, no other vessel can remove a parent (`rmdir`
/// of a non-empty directory fails) between its `mkdir` and its preparation.
///
/// A failed preparation comes back as `prepare` returned it: its error is the caller's.
pub fn create<E>(
    base: &Path,
    dir: &Path,
    shared_default: bool,
    mut prepare: impl FnMut(&Path) -> Result<(), E>,
) -> Result<Placed, E>
where
    E: From<CgroupError> + std::error::Error + 'static,
{
    let mut attempt = 1;
    loop {
        match place_once(base, dir, shared_default, &mut prepare) {
            Ok(placed) => return Ok(placed),
            // A parent went between our mkdirs, or between them and a preparing write.
            Err(error) if is_not_found(&error) && attempt < CREATE_ATTEMPTS => attempt += 1,
            Err(error) => return Err(error),
        }
    }
}
// ANCHOR_END: create

fn place_once<E: From<CgroupError>>(
    base: &Path,
    dir: &Path,
    shared_default: bool,
    prepare: &mut impl FnMut(&Path) -> Result<(), E>,
) -> Result<Placed, E> {
    let mut placed = Placed {
        dir: PathBuf::new(),
        parents: Vec::new(),
    };
    let below = dir.strip_prefix(base).unwrap_or(dir);
    let made = match std::fs::create_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            make_parents(base, below, shared_default, &mut placed.parents)
                .and_then(|()| std::fs::create_dir(dir).map_err(|e| (dir.to_owned(), e)))
        }
        made => made.map_err(|e| (dir.to_owned(), e)),
    };
    if let Err((path, source)) = made {
        let _ = placed.remove();
        let exists = source.kind() == io::ErrorKind::AlreadyExists;
        return Err(CgroupError::io(CgroupStep::Mkdir { path, exists })(source).into());
    }
    placed.dir = dir.to_owned();
    let mut path = base.to_path_buf();
    for component in below.components() {
        path.push(component);
        if let Err(error) = prepare(&path) {
            let _ = placed.remove();
            return Err(error);
        }
    }
    Ok(placed)
}

/// Makes the missing directories between `base` and the container's (`below` it),
/// recording in `made` those that go again when empty (see [`Placed::parents`]).
fn make_parents(
    base: &Path,
    below: &Path,
    shared_default: bool,
    made: &mut Vec<PathBuf>,
) -> std::result::Result<(), (PathBuf, io::Error)> {
    let mut path = base.to_path_buf();
    let parents = below.parent().map(Path::components).into_iter().flatten();
    for component in parents {
        path.push(component);
        match std::fs::create_dir(&path) {
            Ok(()) if !shared_default => made.push(path.clone()),
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err((path, e)),
        }
    }
    Ok(())
}

/// Whether `error` is one of our own cgroup steps that met `ENOENT`.
fn is_not_found(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<CgroupError>()
        .and_then(CgroupError::io_error)
        .is_some_and(|e| e.kind() == io::ErrorKind::NotFound)
}

impl Placed {
    /// Removes the container's directory, then the parents this creation made that are
    /// now empty (never vessel's shared parent). The directory must hold no process any
    /// more (the kernel answers `EBUSY` otherwise).
    pub fn remove(&self) -> Result<()> {
        if !self.dir.as_os_str().is_empty() {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CgroupError::io(CgroupStep::Rmdir(self.dir.clone()))(source));
                }
            }
        }
        for parent in self.parents.iter().rev() {
            // Busy or not empty: another container still lives there, and removes it.
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A preparation's own failure, which [`create`] hands back as it is.
    #[derive(Debug, thiserror::Error)]
    enum PrepareError {
        #[error("prepare")]
        Refused,
        #[error(transparent)]
        Cgroup(#[from] CgroupError),
    }

    #[test]
    fn the_default_place_is_under_our_own_cgroup() {
        let mount = Path::new("/sys/fs/cgroup/memory");
        let own = Path::new("/sys/fs/cgroup/memory/process_api/97e6");
        assert_eq!(
            container_dir(mount, own, None, "abc"),
            Path::new("/sys/fs/cgroup/memory/process_api/97e6/vessel/abc")
        );
        assert_eq!(
            container_dir(mount, own, Some(Path::new("ci/jobs")), "abc"),
            Path::new("/sys/fs/cgroup/memory/process_api/97e6/ci/jobs/abc")
        );
        assert_eq!(
            container_dir(mount, own, Some(Path::new("/elsewhere")), "abc"),
            Path::new("/sys/fs/cgroup/memory/elsewhere/abc")
        );
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(
            check_names(None, "a/b")
                .unwrap_err()
                .contains("one path component")
        );
        assert!(check_names(None, "..").is_err());
        assert!(
            check_names(Some(Path::new("/")), "a")
                .unwrap_err()
                .contains("root")
        );
        assert!(
            check_names(Some(Path::new("a/../..")), "a")
                .unwrap_err()
                .contains("..")
        );
        assert_eq!(check_names(Some(Path::new("ci")), "a"), Ok(()));
    }

    #[test]
    fn creation_records_what_it_made_and_removal_undoes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path().join("own");
        std::fs::create_dir(&own).unwrap();
        let dir = container_dir(tmp.path(), &own, Some(Path::new("a/b")), "c");
        let mut prepared = Vec::new();
        let placed = create(&own, &dir, false, |p| {
            prepared.push(p.to_owned());
            Ok::<(), CgroupError>(())
        })
        .unwrap();
        assert_eq!(placed.parents, [own.join("a"), own.join("a/b")]);
        assert_eq!(
            prepared,
            [own.join("a"), own.join("a/b"), own.join("a/b/c")]
        );
        placed.remove().unwrap();
        assert_eq!(std::fs::read_dir(&own).unwrap().count(), 0);
    }

    #[test]
    fn a_failed_preparation_removes_what_was_made() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path();
        let dir = container_dir(own, own, Some(Path::new("a")), "c");
        let error = create(own, &dir, false, |p| {
            if p.ends_with("c") {
                Err(PrepareError::Refused)
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "prepare");
        assert_eq!(std::fs::read_dir(own).unwrap().count(), 0);
    }

    /// CI caught this when every last container removed `vessel`: it went between our
    /// mkdir and the cpuset write that prepares it, and the write's ENOENT failed the
    /// run. vessel keeps it now, but an older vessel or an administrator may still
    /// remove it (here: our directory and the parent both, as `rmdir` needs).
    #[test]
    fn a_parent_removed_before_it_is_prepared_is_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = container_dir(tmp.path(), tmp.path(), None, "c");
        let mut raced = false;
        let placed = create(tmp.path(), &dir, true, |p| {
            if p.ends_with(DEFAULT_PARENT) && !raced {
                raced = true;
                std::fs::remove_dir(p.join("c")).unwrap();
                std::fs::remove_dir(p).unwrap();
                return Err(CgroupError::io(CgroupStep::Write {
                    value: "0".to_owned(),
                    file: p.join("cpuset.cpus"),
                })(io::Error::from(io::ErrorKind::NotFound)));
            }
            Ok(())
        })
        .unwrap();
        assert!(raced);
        assert!(dir.is_dir());
        placed.remove().unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn the_shared_parent_is_made_once_and_outlives_its_last_container() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join(DEFAULT_PARENT);
        for name in ["first", "second"] {
            let dir = container_dir(tmp.path(), tmp.path(), None, name);
            let mut prepared = Vec::new();
            let placed = create(tmp.path(), &dir, true, |p| {
                prepared.push(p.to_owned());
                Ok::<(), CgroupError>(())
            })
            .unwrap();
            // Made or found, the shared parent is prepared each time (a cpuset whose
            // maker was killed before it copied the CPUs gets them now).
            assert_eq!(prepared, [shared.clone(), dir.clone()]);
            assert!(placed.parents.is_empty(), "{:?}", placed.parents);
            placed.remove().unwrap();
            assert!(!dir.exists());
            assert!(shared.is_dir(), "the shared parent went with {name}");
        }
    }

    #[test]
    fn an_existing_container_dir_is_an_error_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = container_dir(tmp.path(), tmp.path(), None, "c");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep"), "").unwrap();
        let error = create(tmp.path(), &dir, true, |_| Ok::<(), CgroupError>(())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is a container with this id running?")
        );
        assert!(dir.join("keep").exists());
    }
}
