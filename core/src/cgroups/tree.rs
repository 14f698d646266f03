//! Making and removing one container's directory in one hierarchy: `<own>/vessel/<id>`
//! (or `<parent>/<id>` with `--cgroup-parent`). A cgroup *is* a directory: `mkdir` creates
//! it with all its files, `rmdir` removes it once no process is left inside.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The directory vessel puts its containers in, under the caller's own cgroup.
pub const DEFAULT_PARENT: &str = "vessel";

/// How often creation is retried when another vessel removed the shared parent
/// directory between our `mkdir`s (it does so when its last container goes).
const CREATE_ATTEMPTS: usize = 5;

/// A container's directory in one hierarchy, and the directories made on the way.
#[derive(Debug)]
pub struct Placed {
    /// The container's own cgroup directory.
    pub dir: PathBuf,
    /// Directories between our own cgroup and `dir` (outermost first) that may be
    /// removed when empty: the ones we created, and vessel's shared default parent.
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

/// Creates `dir` and any missing parent below `base`, calling `prepare` on each new
/// directory (v1 cpuset needs its CPUs and memory nodes copied from the parent before
/// anything can join). `shared_default` marks vessel's own parent directory, removed
/// when empty even if another container created it.
pub fn create(
    base: &Path,
    dir: &Path,
    shared_default: bool,
    mut prepare: impl FnMut(&Path) -> Result<()>,
) -> Result<Placed> {
    let below = dir.strip_prefix(base).unwrap_or(dir);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut parents = Vec::new();
        let mut path = base.to_path_buf();
        let components: Vec<_> = below.components().collect();
        let mut failed = None;
        for (i, component) in components.iter().enumerate() {
            path.push(component);
            let leaf = i + 1 == components.len();
            let mut made_leaf = false;
            match std::fs::create_dir(&path) {
                Ok(()) if leaf => made_leaf = true,
                Ok(()) => parents.push(path.clone()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !leaf => {
                    if shared_default && path.ends_with(DEFAULT_PARENT) {
                        parents.push(path.clone());
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            if let Err(e) = prepare(&path) {
                let placed = Placed {
                    dir: if made_leaf {
                        path.clone()
                    } else {
                        PathBuf::new()
                    },
                    parents: std::mem::take(&mut parents),
                };
                let _ = placed.remove();
                // The same race, one step later: the parent went between our mkdir and
                // the write that prepares it.
                if is_not_found(&e) && attempt < CREATE_ATTEMPTS {
                    failed = Some(io::Error::from(io::ErrorKind::NotFound));
                    break;
                }
                return Err(e);
            }
        }
        match failed {
            None => {
                return Ok(Placed {
                    dir: dir.to_path_buf(),
                    parents,
                });
            }
            // Another vessel removed an empty parent just as we were going into it.
            Some(e) if e.kind() == io::ErrorKind::NotFound && attempt < CREATE_ATTEMPTS => {}
            Some(e) => {
                let placed = Placed {
                    dir: PathBuf::new(),
                    parents,
                };
                let _ = placed.remove();
                let hint = if e.kind() == io::ErrorKind::AlreadyExists {
                    " (a cgroup of that name exists: is a container with this id running?)"
                } else {
                    ""
                };
                return Err(Error::Cgroup {
                    step: format!("mkdir {}{hint}", path.display()),
                    source: e,
                });
            }
        }
    }
}

fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Cgroup { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

impl Placed {
    /// Removes the container's directory, then the parents that are now empty. The
    /// directory must hold no process any more (the kernel answers `EBUSY` otherwise).
    pub fn remove(&self) -> Result<()> {
        if !self.dir.as_os_str().is_empty() {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Cgroup {
                        step: format!("rmdir {}", self.dir.display()),
                        source,
                    });
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
            Ok(())
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
                Err(Error::Cgroup {
                    step: "prepare".into(),
                    source: io::Error::other("refused"),
                })
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "prepare");
        assert_eq!(std::fs::read_dir(own).unwrap().count(), 0);
    }

    /// CI caught this: another test's last container removed `vessel` between our mkdir
    /// and the cpuset write that prepares it, and the write's ENOENT failed the run.
    #[test]
    fn a_parent_removed_before_it_is_prepared_is_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = container_dir(tmp.path(), tmp.path(), None, "c");
        let mut raced = false;
        let placed = create(tmp.path(), &dir, true, |p| {
            if p.ends_with(DEFAULT_PARENT) && !raced {
                raced = true;
                std::fs::remove_dir(p).unwrap();
                return Err(Error::Cgroup {
                    step: format!("write to {}", p.display()),
                    source: io::Error::from(io::ErrorKind::NotFound),
                });
            }
            Ok(())
        })
        .unwrap();
        assert!(raced);
        assert!(dir.is_dir());
        placed.remove().unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_existing_container_dir_is_an_error_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = container_dir(tmp.path(), tmp.path(), None, "c");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep"), "").unwrap();
        let error = create(tmp.path(), &dir, true, |_| Ok(())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is a container with this id running?")
        );
        assert!(dir.join("keep").exists());
    }
}
