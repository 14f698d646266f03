//! The run directory: where records live, and the lock that orders their writers.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::error::{Result, StateError, StateStep};
use super::id::ContainerId;
use super::machine::{self, Event};
use super::paths;
use super::record::Record;
use super::resolve::resolve;
use super::root::Root;

/// The run directory when `VESSEL_RUN_DIR` is not set. Under `/run`, a tmpfs: records
/// vanish at reboot, as the containers they describe do.
pub const DEFAULT_RUN_DIR: &str = "/run/vessel";
/// The environment variable that overrides [`DEFAULT_RUN_DIR`].
pub const RUN_DIR_ENV: &str = "VESSEL_RUN_DIR";

/// The directory of container records.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

/// An exclusive `flock` on the directory's `.lock`, released on drop.
struct Lock {
    _file: File,
}

impl StateDir {
    /// [`StateDir::open_in`] the root the environment names.
    pub fn open() -> Result<StateDir> {
        StateDir::open_in(&Root::from_env())
    }

    /// The run directory, created if missing: `$VESSEL_RUN_DIR`; else `run/` under
    /// `root` when one was chosen (`vessel --root DIR`, `$VESSEL_ROOT`), so the records
    /// stay with the layers they describe; else, when not root, `$XDG_RUNTIME_DIR/vessel`
    /// (the user's own tmpfs, as rootless podman does); else [`DEFAULT_RUN_DIR`].
    pub fn open_in(root: &Root) -> Result<StateDir> {
        let under_root = || root.chosen().then(|| root.dir().join("run"));
        let rootless = || {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let root = unsafe { libc::geteuid() } == 0;
            let runtime = std::env::var_os("XDG_RUNTIME_DIR").filter(|_| !root)?;
            Some(PathBuf::from(runtime).join("vessel"))
        };
        let dir = std::env::var_os(RUN_DIR_ENV)
            .map(PathBuf::from)
            .or_else(under_root)
            .or_else(rootless)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RUN_DIR));
        StateDir::at(dir)
    }

    /// A run directory at `dir`, created (mode 0700) if missing. Only the run directory
    /// itself is private: missing parents get the usual mode, since a parent is often
    /// the vessel root (`--root DIR` puts records in `DIR/run`), whose rootfs and layers
    /// a user namespace's unprivileged root must be able to reach.
    pub fn at(dir: impl Into<PathBuf>) -> Result<StateDir> {
        let dir = dir.into();
        let parents = match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => fs::create_dir_all(parent),
            _ => Ok(()),
        };
        parents
            .and_then(|()| match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
                created => created,
            })
            .map_err(|source| state_error(&dir, StateStep::CreateRunDir, source))?;
        Ok(StateDir { dir })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> Result<Lock> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| state_error(&path, StateStep::OpenLock, source))?;
        loop {
            // SAFETY: flock on a descriptor we own; it touches no memory.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Lock { _file: file });
            }
            let source = std::io::Error::last_os_error();
            if source.kind() != ErrorKind::Interrupted {
                return Err(state_error(&path, StateStep::Lock, source));
            }
        }
    }

    /// Adds a new record; refused if its name is malformed or already taken. The check
    /// and the write happen under the lock, so two `--name web` never both succeed.
    pub fn create(&self, record: &Record) -> Result<()> {
        if let Some(name) = &record.name {
            check_name(name)?;
        }
        let _lock = self.lock()?;
        let path = paths::record(&self.dir, &record.id);
        if path.exists() {
            let exists = std::io::Error::from(ErrorKind::AlreadyExists);
            return Err(state_error(&path, StateStep::CreateTaken, exists));
        }
        if let Some(name) = &record.name
            && self
                .list_unlocked()?
                .iter()
                .any(|r| r.name.as_ref() == Some(name))
        {
            return Err(StateError::NameTaken(name.clone()));
        }
        self.write_unlocked(record)
    }

    // ANCHOR: apply
    /// Applies a lifecycle event to record `id` as stored, under the lock: the only way
    /// a status changes (see [`super::machine`]). Fails if the record is gone or the
    /// machine has no such edge; the stored record is then unchanged.
    pub fn apply(&self, id: &ContainerId, event: Event) -> Result<Record> {
        let _lock = self.lock()?;
        let mut record = self.load(id)?;
        record.apply(event)?;
        self.write_unlocked(&record)?;
        Ok(record)
    }
    // ANCHOR_END: apply

    /// Loads record `id`.
    pub fn load(&self, id: &ContainerId) -> Result<Record> {
        let path = paths::record(&self.dir, id);
        let text = fs::read_to_string(&path).map_err(|source| match source.kind() {
            ErrorKind::NotFound => StateError::NoSuchContainer(id.to_string()),
            _ => state_error(&path, StateStep::Read, source),
        })?;
        serde_json::from_str(&text).map_err(|source| StateError::Unreadable {
            path: path.clone(),
            source,
        })
    }

    /// Finds a container by id, name, or a prefix of its id that only it has.
    pub fn find(&self, id_or_name: &str) -> Result<Record> {
        resolve(self.list()?, id_or_name)
    }

    /// Every record, in no particular order.
    pub fn list(&self) -> Result<Vec<Record>> {
        let _lock = self.lock()?;
        self.list_unlocked()
    }

    /// Deletes record `id` (and a temporary file a killed writer may have left); a
    /// missing record is fine. Refused while the record says running and the kernel
    /// agrees: a "running" whose process and supervisor are gone is removed as it is,
    /// without first writing "exited" down (removal must never need free space).
    pub fn remove(&self, id: &ContainerId) -> Result<()> {
        let _lock = self.lock()?;
        // A missing or unreadable record is no refusal: removing is how to get rid of
        // an unreadable one.
        if let Ok(record) = self.load(id)
            && !machine::removable(record.status)
            && matches!(
                record.observed(),
                super::Observed::Running | super::Observed::Created
            )
        {
            return Err(StateError::StillRunning(record.id));
        }
        let _ = fs::remove_file(paths::record_scratch(&self.dir, id));
        let path = paths::record(&self.dir, id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(state_error(&path, StateStep::Remove, e))
            }
            _ => Ok(()),
        }
    }

    /// Where a detached container's log goes: `ID.log` next to its record.
    pub fn log_path(&self, id: &ContainerId) -> PathBuf {
        paths::log(&self.dir, id)
    }

    /// The readable records. One that does not parse (edited by hand, or written by
    /// another version of vessel) is left out rather than failing every command: see
    /// [`StateDir::unreadable`] and [`StateDir::remove_unreadable`].
    fn list_unlocked(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for id in self.ids()? {
            match self.load(&id) {
                Ok(record) => records.push(record),
                Err(StateError::Unreadable { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(records)
    }

    /// The ids of the record files in the directory (a file whose name is no id is no
    /// record: nothing vessel wrote).
    fn ids(&self) -> Result<Vec<ContainerId>> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|source| state_error(&self.dir, StateStep::List, source))?;
        Ok(entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                ContainerId::parse(paths::record_id(name.to_str()?)?).ok()
            })
            .collect())
    }

    /// The records that do not parse, with the reason: `vessel ps` names them, so
    /// their containers are not silently forgotten.
    pub fn unreadable(&self) -> Result<Vec<(ContainerId, StateError)>> {
        let _lock = self.lock()?;
        let mut unreadable = Vec::new();
        for id in self.ids()? {
            if let Err(error @ StateError::Unreadable { .. }) = self.load(&id) {
                unreadable.push((id, error));
            }
        }
        Ok(unreadable)
    }

    /// Removes record `id` and its log if the record does not parse; returns whether it
    /// did. What else the container had is unknown: its record said.
    pub fn remove_unreadable(&self, id: &str) -> Result<bool> {
        let _lock = self.lock()?;
        // Only a record file of this directory: `id` is what a user typed, and
        // `../somewhere/file` must not name a file elsewhere.
        let Some(id) = self.ids()?.into_iter().find(|known| known.as_str() == id) else {
            return Ok(false);
        };
        let id = &id;
        match self.load(id) {
            Err(StateError::Unreadable { .. }) => {}
            _ => return Ok(false),
        }
        let path = paths::record(&self.dir, id);
        fs::remove_file(&path).map_err(|e| state_error(&path, StateStep::Remove, e))?;
        let _ = fs::remove_file(self.log_path(id));
        Ok(true)
    }

    // ANCHOR: atomic_write
    /// Writes the whole record to a temporary file, flushes it, and renames it over the
    /// old one: `rename` within a directory is atomic, so readers see old or new, never
    /// a mix. Callers hold the lock, so no update is lost between load and write.
    fn write_unlocked(&self, record: &Record) -> Result<()> {
        let path = paths::record(&self.dir, &record.id);
        let tmp = paths::record_scratch(&self.dir, &record.id);
        let text =
            serde_json::to_string_pretty(record).map_err(|source| StateError::Unwritable {
                path: path.clone(),
                source,
            })?;
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| fs::rename(&tmp, &path));
        written.map_err(|source| {
            let _ = fs::remove_file(&tmp);
            state_error(&path, StateStep::Write, source)
        })
    }
    // ANCHOR_END: atomic_write
}

/// Names as docker allows them: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, here at most 64 long.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() <= 64 {
        Ok(())
    } else {
        Err(StateError::InvalidName(name.to_owned()))
    }
}

fn state_error(path: &Path, step: StateStep, source: std::io::Error) -> StateError {
    StateError::io(path, step)(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ContainerId {
        ContainerId::parse(text).unwrap()
    }

    fn record(text: &str, name: Option<&str>) -> Record {
        Record::new(
            id(text),
            name.map(Into::into),
            vec!["sh".into()],
            "/r".into(),
        )
    }

    #[test]
    fn records_round_trip_and_are_found_by_id_name_or_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path().join("run")).unwrap();
        dir.create(&record("0123456789ab", Some("web"))).unwrap();
        dir.create(&record("ffff00001111", None)).unwrap();
        assert_eq!(dir.find("web").unwrap().id, "0123456789ab");
        assert_eq!(dir.find("0123").unwrap().id, "0123456789ab");
        assert_eq!(dir.find("ffff00001111").unwrap().name, None);
        assert!(matches!(dir.find("9"), Err(StateError::NoSuchContainer(_))));
        assert!(matches!(dir.find(""), Err(StateError::NoSuchContainer(_))));
        let updated = dir
            .apply(
                &id("ffff00001111"),
                Event::Exited {
                    exit_code: Some(3),
                    oom_killed: false,
                },
            )
            .unwrap();
        assert_eq!(dir.load(&id("ffff00001111")).unwrap(), updated);
        dir.remove(&id("ffff00001111")).unwrap();
        assert_eq!(dir.list().unwrap().len(), 1);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn an_ambiguous_prefix_names_the_candidates() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        dir.create(&record("abc000000001", None)).unwrap();
        dir.create(&record("abc000000002", None)).unwrap();
        assert_eq!(
            dir.find("abc").unwrap_err().to_string(),
            "\"abc\" matches more than one container (abc000000001, abc000000002): give more of the id, or the name"
        );
        assert_eq!(
            dir.find("abc0000000010").unwrap_err().to_string(),
            "no container \"abc0000000010\" (see `vessel ps -a` for ids and names)"
        );
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        for bad in ["", "-web", "a/b", "web server", &"x".repeat(65)] {
            let error = dir.create(&record("0123456789ab", Some(bad))).unwrap_err();
            assert!(
                matches!(error, StateError::InvalidName(_)),
                "{bad}: {error}"
            );
        }
        assert!(dir.list().unwrap().is_empty());
        dir.create(&record("0123456789ab", Some("web-1.a_b")))
            .unwrap();
    }

    #[test]
    fn a_running_record_cannot_be_removed_unless_its_process_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        // "Running" as this very test process: alive, so the record stays.
        let me = std::process::id() as libc::pid_t;
        dir.create(&record("0123456789ab", None)).unwrap();
        dir.apply(
            &id("0123456789ab"),
            Event::Started {
                pid: me,
                pid_start_time: super::super::process::start_time(me).unwrap(),
            },
        )
        .unwrap();
        let error = dir.remove(&id("0123456789ab")).unwrap_err();
        assert!(matches!(error, StateError::StillRunning(_)), "{error}");
        // "Running" as a process that is not there (pid 1 did not start at tick 1) and
        // no supervisor left: removed without writing "exited" first.
        dir.create(&record("ffff00001111", None)).unwrap();
        dir.apply(
            &id("ffff00001111"),
            Event::Started {
                pid: 1,
                pid_start_time: 1,
            },
        )
        .unwrap();
        let mut gone = dir.load(&id("ffff00001111")).unwrap();
        gone.shim_pid = 1;
        gone.shim_start_time = 1;
        dir.write_unlocked(&gone).unwrap();
        dir.remove(&id("ffff00001111")).unwrap();
    }

    #[test]
    fn an_unreadable_record_is_left_out_named_and_removable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        dir.create(&record("0123456789ab", Some("web"))).unwrap();
        fs::write(tmp.path().join("deadbeef0000.json"), "{garbage").unwrap();
        fs::write(tmp.path().join("deadbeef0000.log"), "").unwrap();
        assert_eq!(dir.list().unwrap().len(), 1);
        assert_eq!(dir.find("web").unwrap().id, "0123456789ab");
        let unreadable = dir.unreadable().unwrap();
        assert_eq!(unreadable.len(), 1);
        assert_eq!(unreadable[0].0, "deadbeef0000");
        assert!(!dir.remove_unreadable("0123456789ab").unwrap());
        // Outside the directory is never a record, however it is spelled.
        let outside = tmp.path().parent().unwrap().join(format!(
            "{}-outside.json",
            tmp.path().file_name().unwrap().to_string_lossy()
        ));
        fs::write(&outside, "{not a record").unwrap();
        let sneaky = format!("../{}", outside.file_stem().unwrap().to_string_lossy());
        let removed = dir.remove_unreadable(&sneaky);
        let survived = outside.exists();
        let _ = fs::remove_file(&outside);
        assert!(!removed.unwrap() && survived);
        assert!(dir.remove_unreadable("deadbeef0000").unwrap());
        assert!(dir.unreadable().unwrap().is_empty());
        assert!(!tmp.path().join("deadbeef0000.log").exists());
    }

    #[test]
    fn only_the_run_directory_is_private_not_the_vessel_root_it_creates() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        StateDir::at(root.join("run")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("run")), 0o700);
        // Searchable by others (a user namespace's root is another user on the host).
        assert_eq!(mode(&root) & 0o001, 0o001, "{:o}", mode(&root));
        // Opening it again is fine.
        StateDir::at(root.join("run")).unwrap();
    }

    #[test]
    fn a_taken_name_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        dir.create(&record("0123456789ab", Some("web"))).unwrap();
        let error = dir
            .create(&record("ba9876543210", Some("web")))
            .unwrap_err();
        assert!(matches!(error, StateError::NameTaken(_)), "{error}");
    }
}
