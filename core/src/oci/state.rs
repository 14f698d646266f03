//! The state of a container made by `vessel create`: one directory per container under
//! `ROOT/oci/ID` holding `state.json` (what `create` decided: pid, bundle, cgroup) and,
//! until `start`, `exec.fifo`, the named pipe the waiting init reads. No vessel process
//! stays behind: the status is read from the kernel each time (is the pid still the
//! process `create` started, is the fifo still there, is its cgroup frozen), so the state
//! survives the CLI exiting and cannot go stale.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::process;

/// The runtime-spec version vessel implements (the `ociVersion` of `state`).
pub const OCI_VERSION: &str = "1.0.2";

/// What `create` recorded about a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciRecord {
    /// The container's id, as the caller named it.
    pub id: String,
    /// The bundle directory (absolute).
    pub bundle: PathBuf,
    /// The init process, as the host numbers it.
    pub pid: libc::pid_t,
    /// Its start time (`/proc/PID/stat` field 22): pid + start time name one process.
    pub pid_start_time: u64,
    /// When `create` made it (RFC 3339).
    pub created: String,
    /// config.json's annotations.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The cgroup directories `create` made, removed by `delete`.
    #[serde(default)]
    pub cgroup_dirs: Vec<PathBuf>,
    /// The rootfs (for `list` and the hooks' state).
    pub rootfs: PathBuf,
}

/// A container's status as runtime-spec "runtime.md#state" names it (plus runc's
/// `paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OciStatus {
    /// `create` is still setting it up (no record yet has this; kept for the spec).
    Creating,
    /// Set up, the init waiting for `start`.
    Created,
    /// The user's command runs.
    Running,
    /// Its cgroup is frozen (`pause`).
    Paused,
    /// The init has exited.
    Stopped,
}

impl std::fmt::Display for OciStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OciStatus::Creating => "creating",
            OciStatus::Created => "created",
            OciStatus::Running => "running",
            OciStatus::Paused => "paused",
            OciStatus::Stopped => "stopped",
        })
    }
}

/// The `state` document (runtime-spec "runtime.md#state"), with runc's extra fields
/// that podman and containerd read (`rootfs`, `created`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDocument<'a> {
    pub oci_version: &'static str,
    pub id: &'a str,
    pub status: OciStatus,
    pub pid: libc::pid_t,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
}

/// Why the OCI state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OciStateError {
    /// No container has this id.
    #[error("container {0:?} does not exist (`vessel list` shows the ones that do)")]
    NotFound(String),
    /// A container with this id exists already.
    #[error("container {0:?} exists already (delete it first, or choose another id)")]
    Exists(String),
    /// The id could not name a directory.
    #[error(
        "container id {0:?} is not valid (use letters, digits, '_', '-', '.', and not only dots)"
    )]
    BadId(String),
    /// A file of the state could not be read or written.
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OciStateError {
    let path = path.to_owned();
    move |source| OciStateError::Io { what, path, source }
}

/// Where OCI containers are kept: `ROOT/oci`.
#[derive(Debug, Clone)]
pub struct OciStore {
    dir: PathBuf,
}

impl OciStore {
    /// The store below vessel's state root (`--root`, `$VESSEL_ROOT`).
    pub fn open_default() -> OciStore {
        OciStore::at(crate::rootfs::state_root().join("oci"))
    }

    /// The store at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> OciStore {
        OciStore { dir: dir.into() }
    }

    /// The directory of container `id`, after checking the id can name one.
    pub fn container_dir(&self, id: &str) -> Result<PathBuf, OciStateError> {
        let valid = !id.is_empty()
            && id.len() <= 1024
            && !id.chars().all(|c| c == '.')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'));
        if !valid {
            return Err(OciStateError::BadId(id.to_owned()));
        }
        Ok(self.dir.join(id))
    }

    /// The exec fifo of container `id` (present only until `start`).
    pub fn fifo(&self, id: &str) -> Result<PathBuf, OciStateError> {
        Ok(self.container_dir(id)?.join("exec.fifo"))
    }

    /// Whether container `id` has state here.
    pub fn exists(&self, id: &str) -> bool {
        self.container_dir(id)
            .map(|d| d.join("state.json").is_file())
            .unwrap_or(false)
    }

    /// Makes the container's directory (refused if it exists) and its exec fifo.
    pub fn reserve(&self, id: &str) -> Result<PathBuf, OciStateError> {
        let dir = self.container_dir(id)?;
        std::fs::create_dir_all(&self.dir).map_err(io_error("create", &self.dir))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(OciStateError::Exists(id.to_owned()));
            }
            Err(e) => return Err(io_error("create", &dir)(e)),
        }
        let fifo = dir.join("exec.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .map_err(|e| io_error("mkfifo", &fifo)(e.into()))?;
        Ok(dir)
    }

    /// Writes `record` (atomically: a whole file or none).
    pub fn save(&self, record: &OciRecord) -> Result<(), OciStateError> {
        let dir = self.container_dir(&record.id)?;
        let path = dir.join("state.json");
        let scratch = dir.join("state.json.new");
        let text = serde_json::to_vec_pretty(record).expect("an OciRecord always serializes");
        std::fs::write(&scratch, text).map_err(io_error("write", &scratch))?;
        std::fs::rename(&scratch, &path).map_err(io_error("rename into", &path))
    }

    /// Reads container `id`'s record.
    pub fn load(&self, id: &str) -> Result<OciRecord, OciStateError> {
        let path = self.container_dir(id)?.join("state.json");
        let text = std::fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OciStateError::NotFound(id.to_owned()),
            _ => io_error("read", &path)(e),
        })?;
        serde_json::from_slice(&text)
            .map_err(|e| io_error("parse", &path)(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// Every container's record, sorted by id (unreadable ones left out).
    pub fn list(&self) -> Vec<OciRecord> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut records: Vec<OciRecord> = entries
            .flatten()
            .filter_map(|e| self.load(&e.file_name().to_string_lossy()).ok())
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Removes container `id`'s directory (its record and fifo).
    pub fn remove(&self, id: &str) -> Result<(), OciStateError> {
        let dir = self.container_dir(id)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", &dir)(e)),
            _ => Ok(()),
        }
    }

    // ANCHOR: oci_status
    /// The container's status, read from the kernel: `stopped` once the init is gone (or
    /// a zombie), `created` while the exec fifo exists, `paused` while its cgroup is
    /// frozen, else `running`.
    pub fn status(&self, record: &OciRecord) -> OciStatus {
        if !process::is_same_process(record.pid, record.pid_start_time) {
            return OciStatus::Stopped;
        }
        if self.fifo(&record.id).is_ok_and(|f| f.exists()) {
            return OciStatus::Created;
        }
        if record.cgroup_dirs.iter().any(|d| is_frozen(d)) {
            return OciStatus::Paused;
        }
        OciStatus::Running
    }
    // ANCHOR_END: oci_status
}

/// Whether the cgroup at `dir` is frozen (v1 `freezer.state`, v2 `cgroup.freeze`).
fn is_frozen(dir: &Path) -> bool {
    if let Ok(state) = std::fs::read_to_string(dir.join("freezer.state")) {
        return state.trim() == "FROZEN";
    }
    std::fs::read_to_string(dir.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
}

impl OciRecord {
    /// The `state` document for this record with `status`.
    pub fn document(&self, status: OciStatus) -> StateDocument<'_> {
        StateDocument {
            oci_version: OCI_VERSION,
            id: &self.id,
            status,
            pid: if status == OciStatus::Stopped {
                0
            } else {
                self.pid
            },
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            annotations: &self.annotations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, pid: libc::pid_t) -> OciRecord {
        OciRecord {
            id: id.to_owned(),
            bundle: "/b".into(),
            pid,
            pid_start_time: process::start_time(pid).unwrap_or(0),
            created: "now".into(),
            annotations: HashMap::new(),
            cgroup_dirs: Vec::new(),
            rootfs: "/b/rootfs".into(),
        }
    }

    #[test]
    fn status_follows_the_fifo_and_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let store = OciStore::at(dir.path());
        store.reserve("box").unwrap();
        let me = record("box", std::process::id() as libc::pid_t);
        store.save(&me).unwrap();
        assert_eq!(store.load("box").unwrap(), me);
        assert_eq!(store.status(&me), OciStatus::Created);
        std::fs::remove_file(store.fifo("box").unwrap()).unwrap();
        assert_eq!(store.status(&me), OciStatus::Running);
        let gone = OciRecord {
            pid_start_time: me.pid_start_time + 1,
            ..me.clone()
        };
        assert_eq!(store.status(&gone), OciStatus::Stopped);
        assert_eq!(gone.document(OciStatus::Stopped).pid, 0);
        assert!(matches!(
            store.reserve("box"),
            Err(OciStateError::Exists(_))
        ));
        store.remove("box").unwrap();
        assert!(matches!(store.load("box"), Err(OciStateError::NotFound(_))));
    }

    #[test]
    fn an_id_cannot_leave_the_store() {
        let store = OciStore::at("/s");
        for bad in ["", "..", "a/b", "../x", "a b"] {
            assert!(store.container_dir(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            store.container_dir("ab-1.2_c").unwrap(),
            Path::new("/s/ab-1.2_c")
        );
    }
}
