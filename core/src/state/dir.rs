//! The run directory: where records live, and the lock that orders their writers.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::record::Record;
use crate::error::{Error, Result};

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
    /// The run directory, created if missing: `$VESSEL_RUN_DIR`; else, when not root,
    /// `$XDG_RUNTIME_DIR/vessel` (the user's own tmpfs, as rootless podman does); else
    /// [`DEFAULT_RUN_DIR`].
    pub fn open() -> Result<StateDir> {
        let rootless = || {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let root = unsafe { libc::geteuid() } == 0;
            let runtime = std::env::var_os("XDG_RUNTIME_DIR").filter(|_| !root)?;
            Some(PathBuf::from(runtime).join("vessel"))
        };
        let dir = std::env::var_os(RUN_DIR_ENV)
            .map(PathBuf::from)
            .or_else(rootless)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RUN_DIR));
        StateDir::at(dir)
    }

    /// A run directory at `dir`, created (mode 0700) if missing.
    pub fn at(dir: impl Into<PathBuf>) -> Result<StateDir> {
        let dir = dir.into();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| Error::State {
                path: dir.clone(),
                what: "create the run directory (set VESSEL_RUN_DIR to a writable directory)",
                source,
            })?;
        Ok(StateDir { dir })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn lock(&self) -> Result<Lock> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| state_error(&path, "open the lock file", source))?;
        loop {
            // SAFETY: flock on a descriptor we own; it touches no memory.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Lock { _file: file });
            }
            let source = std::io::Error::last_os_error();
            if source.kind() != ErrorKind::Interrupted {
                return Err(state_error(&path, "lock", source));
            }
        }
    }

    /// Adds a new record; refused if its name is already taken.
    pub fn create(&self, record: &Record) -> Result<()> {
        let _lock = self.lock()?;
        if let Some(name) = &record.name
            && self
                .list_unlocked()?
                .iter()
                .any(|r| r.name.as_ref() == Some(name))
        {
            return Err(Error::NameTaken(name.clone()));
        }
        self.write_unlocked(record)
    }

    /// Replaces the stored record with `record`.
    pub fn save(&self, record: &Record) -> Result<()> {
        let _lock = self.lock()?;
        self.write_unlocked(record)
    }

    /// Loads record `id`, changes it with `change`, and stores it, all under the lock.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Record)) -> Result<Record> {
        let _lock = self.lock()?;
        let mut record = self.load(id)?;
        change(&mut record);
        self.write_unlocked(&record)?;
        Ok(record)
    }

    /// Loads record `id`.
    pub fn load(&self, id: &str) -> Result<Record> {
        let path = self.record_path(id);
        let text = fs::read_to_string(&path).map_err(|source| match source.kind() {
            ErrorKind::NotFound => Error::NoSuchContainer(id.to_owned()),
            _ => state_error(&path, "read", source),
        })?;
        serde_json::from_str(&text)
            .map_err(|e| state_error(&path, "parse", std::io::Error::other(e)))
    }

    /// Finds a container by id, name, or a prefix of its id that only it has.
    pub fn find(&self, id_or_name: &str) -> Result<Record> {
        let records = self.list()?;
        if let Some(found) = records
            .iter()
            .find(|r| r.id == id_or_name || r.name.as_deref() == Some(id_or_name))
        {
            return Ok(found.clone());
        }
        let mut prefixed = records.iter().filter(|r| r.id.starts_with(id_or_name));
        match (prefixed.next(), prefixed.next()) {
            (Some(one), None) if !id_or_name.is_empty() => Ok(one.clone()),
            _ => Err(Error::NoSuchContainer(id_or_name.to_owned())),
        }
    }

    /// Every record, in no particular order.
    pub fn list(&self) -> Result<Vec<Record>> {
        let _lock = self.lock()?;
        self.list_unlocked()
    }

    /// Deletes record `id`; a missing record is fine.
    pub fn remove(&self, id: &str) -> Result<()> {
        let _lock = self.lock()?;
        let path = self.record_path(id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(state_error(&path, "remove", e)),
            _ => Ok(()),
        }
    }

    fn list_unlocked(&self) -> Result<Vec<Record>> {
        let entries =
            fs::read_dir(&self.dir).map_err(|source| state_error(&self.dir, "list", source))?;
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if id.starts_with('.') {
                continue;
            }
            records.push(self.load(id)?);
        }
        Ok(records)
    }

    // ANCHOR: atomic_write
    /// Writes the whole record to a temporary file, flushes it, and renames it over the
    /// old one: `rename` within a directory is atomic, so readers see old or new, never
    /// a mix. Callers hold the lock, so no update is lost between load and write.
    fn write_unlocked(&self, record: &Record) -> Result<()> {
        let path = self.record_path(&record.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", record.id));
        let text = serde_json::to_string_pretty(record)
            .map_err(|e| state_error(&path, "serialize", std::io::Error::other(e)))?;
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| fs::rename(&tmp, &path));
        written.map_err(|source| {
            let _ = fs::remove_file(&tmp);
            state_error(&path, "write", source)
        })
    }
    // ANCHOR_END: atomic_write
}

fn state_error(path: &Path, what: &'static str, source: std::io::Error) -> Error {
    Error::State {
        path: path.to_owned(),
        what,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: Option<&str>) -> Record {
        Record::new(
            id.into(),
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
        assert!(matches!(dir.find("9"), Err(Error::NoSuchContainer(_))));
        let updated = dir
            .update("ffff00001111", |r| r.exit_code = Some(3))
            .unwrap();
        assert_eq!(dir.load("ffff00001111").unwrap(), updated);
        dir.remove("ffff00001111").unwrap();
        assert_eq!(dir.list().unwrap().len(), 1);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_taken_name_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path()).unwrap();
        dir.create(&record("0123456789ab", Some("web"))).unwrap();
        let error = dir
            .create(&record("ba9876543210", Some("web")))
            .unwrap_err();
        assert!(matches!(error, Error::NameTaken(_)), "{error}");
    }
}
