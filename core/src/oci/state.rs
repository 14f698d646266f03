//! The state of a container made by `vessel create`: one directory per container under
//! `ROOT/oci/ID` holding `state.json` (its [`Record`], with an [`OciSection`]: what
//! `create` decided, pid, bundle, cgroup) and,
//! until `start`, `exec.fifo`, the named pipe the waiting init reads. No vessel process
//! stays behind: the status is read from the kernel each time (is the pid still the
//! process `create` started, is the fifo still there, is its cgroup frozen), so the state
//! survives the CLI exiting and cannot go stale.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use super::error::{OciStateError, OciStateStep};
use crate::state::{ContainerId, OciSection, Record, Root, paths, process};

/// The runtime-spec version vessel implements (the `ociVersion` of `state`).
pub const OCI_VERSION: &str = "1.0.2";

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<&'a HashMap<String, String>>,
}

fn io_error(step: OciStateStep, path: &Path) -> impl FnOnce(io::Error) -> OciStateError {
    let path = path.to_owned();
    move |source| OciStateError::Io { step, path, source }
}

/// Where OCI containers are kept: `ROOT/oci`.
#[derive(Debug, Clone)]
pub struct OciStore {
    dir: PathBuf,
}

impl OciStore {
    /// The store below the state root `root` (`--root`, `$VESSEL_ROOT`).
    pub fn open_in(root: &Root) -> OciStore {
        OciStore::at(paths::oci(root.dir()))
    }

    /// The store at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> OciStore {
        OciStore { dir: dir.into() }
    }

    /// The directory of container `id` (the id cannot climb out of the store: see
    /// [`ContainerId`]).
    pub fn container_dir(&self, id: &ContainerId) -> PathBuf {
        paths::oci_container(&self.dir, id)
    }

    /// The exec fifo of container `id` (present only until `start`).
    pub fn fifo(&self, id: &ContainerId) -> PathBuf {
        paths::exec_fifo(&self.container_dir(id))
    }

    /// Whether container `id` has state here.
    pub fn exists(&self, id: &ContainerId) -> bool {
        paths::oci_state(&self.container_dir(id)).is_file()
    }

    /// Makes the container's directory (refused if it exists) and its exec fifo.
    pub fn reserve(&self, id: &ContainerId) -> Result<PathBuf, OciStateError> {
        let dir = self.container_dir(id);
        std::fs::create_dir_all(&self.dir).map_err(io_error(OciStateStep::Create, &self.dir))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(OciStateError::Exists(id.clone()));
            }
            Err(e) => return Err(io_error(OciStateStep::Create, &dir)(e)),
        }
        let fifo = paths::exec_fifo(&dir);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .map_err(|e| io_error(OciStateStep::Mkfifo, &fifo)(e.into()))?;
        Ok(dir)
    }

    /// Writes `record` (atomically: a whole file or none).
    pub fn save(&self, record: &Record) -> Result<(), OciStateError> {
        let dir = self.container_dir(&record.id);
        let path = paths::oci_state(&dir);
        let scratch = paths::oci_state_scratch(&dir);
        let text = serde_json::to_vec_pretty(record).expect("a record always serializes");
        std::fs::write(&scratch, text).map_err(io_error(OciStateStep::Write, &scratch))?;
        std::fs::rename(&scratch, &path).map_err(io_error(OciStateStep::RenameInto, &path))
    }

    /// Reads container `id`'s record.
    pub fn load(&self, id: &ContainerId) -> Result<Record, OciStateError> {
        let path = paths::oci_state(&self.container_dir(id));
        let text = std::fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OciStateError::NotFound(id.clone()),
            _ => io_error(OciStateStep::Read, &path)(e),
        })?;
        serde_json::from_slice(&text).map_err(|source| OciStateError::Unreadable { path, source })
    }

    /// Every container's record, sorted by id (unreadable ones left out).
    pub fn list(&self) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut records: Vec<Record> = entries
            .flatten()
            .filter_map(|e| ContainerId::parse(e.file_name().to_str()?).ok())
            .filter_map(|id| self.load(&id).ok())
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Removes container `id`'s directory (its record and fifo).
    pub fn remove(&self, id: &ContainerId) -> Result<(), OciStateError> {
        let dir = self.container_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_error(OciStateStep::Remove, &dir)(e))
            }
            _ => Ok(()),
        }
    }

    // ANCHOR: oci_status
    /// The container's status, read from the kernel: `stopped` once the init is gone (or
    /// a zombie), `created` while the exec fifo exists, `paused` while its cgroup is
    /// frozen, else `running`.
    pub fn status(&self, record: &Record) -> OciStatus {
        if !process::is_same_process(record.pid, record.pid_start_time) {
            return OciStatus::Stopped;
        }
        if self.fifo(&record.id).exists() {
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

/// The `state` document for `record` with `status`.
pub fn document(record: &Record, status: OciStatus) -> StateDocument<'_> {
    StateDocument {
        oci_version: OCI_VERSION,
        id: record.id.as_str(),
        status,
        pid: if status == OciStatus::Stopped {
            0
        } else {
            record.pid
        },
        bundle: record.bundle(),
        rootfs: &record.rootfs,
        created: &record.created,
        annotations: record
            .oci
            .as_ref()
            .map(|oci| &oci.annotations)
            .filter(|annotations| !annotations.is_empty()),
    }
}

/// The record of a container `create` has just made: its init `pid` (which started at
/// `pid_start_time`) waits on the exec fifo to run `command`.
pub fn created(
    id: ContainerId,
    oci: OciSection,
    rootfs: PathBuf,
    command: Vec<String>,
    (pid, pid_start_time): (libc::pid_t, u64),
    cgroup_dirs: Vec<PathBuf>,
) -> Record {
    let mut record = Record::new(id, None, command, rootfs);
    // No vessel process stays with the container: its status is read from the kernel.
    record.shim_pid = 0;
    record.shim_start_time = 0;
    record.pid = pid;
    record.pid_start_time = pid_start_time;
    record.cgroup_dirs = cgroup_dirs;
    record.oci = Some(oci);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ContainerId {
        ContainerId::parse(text).unwrap()
    }

    fn record(text: &str, pid: libc::pid_t) -> Record {
        let oci = OciSection {
            bundle: "/b".into(),
            annotations: HashMap::new(),
        };
        let start = process::start_time(pid).unwrap_or(0);
        created(
            id(text),
            oci,
            "/b/rootfs".into(),
            vec![],
            (pid, start),
            vec![],
        )
    }

    #[test]
    fn status_follows_the_fifo_and_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let store = OciStore::at(dir.path());
        store.reserve(&id("box")).unwrap();
        let me = record("box", std::process::id() as libc::pid_t);
        store.save(&me).unwrap();
        assert_eq!(store.load(&id("box")).unwrap(), me);
        assert_eq!(store.status(&me), OciStatus::Created);
        std::fs::remove_file(store.fifo(&id("box"))).unwrap();
        assert_eq!(store.status(&me), OciStatus::Running);
        let gone = Record {
            pid_start_time: me.pid_start_time + 1,
            ..me.clone()
        };
        assert_eq!(store.status(&gone), OciStatus::Stopped);
        assert_eq!(document(&gone, OciStatus::Stopped).pid, 0);
        assert!(matches!(
            store.reserve(&id("box")),
            Err(OciStateError::Exists(_))
        ));
        store.remove(&id("box")).unwrap();
        assert!(matches!(
            store.load(&id("box")),
            Err(OciStateError::NotFound(_))
        ));
    }

    #[test]
    fn the_state_an_older_vessel_wrote_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = OciStore::at(dir.path());
        store.reserve(&id("old")).unwrap();
        let old = r#"{"id": "old", "bundle": "/b", "pid": 42, "pid_start_time": 7,
            "created": "2026-12-01T00:00:00.000Z", "annotations": {"a": "b"},
            "cgroup_dirs": [], "rootfs": "/b/rootfs"}"#;
        std::fs::write(paths::oci_state(&store.container_dir(&id("old"))), old).unwrap();
        let record = store.load(&id("old")).unwrap();
        assert_eq!((record.pid, record.pid_start_time), (42, 7));
        assert_eq!(record.bundle(), Path::new("/b"));
        let document = serde_json::to_value(document(&record, OciStatus::Running)).unwrap();
        assert_eq!(document["annotations"]["a"], "b");
        assert_eq!(document["bundle"], "/b");
    }

    #[test]
    fn a_record_of_vessel_run_has_no_bundle_and_writes_none() {
        let record = Record::new(id("r"), None, vec![], "/r".into());
        let text = serde_json::to_value(&record).unwrap();
        assert!(text.get("bundle").is_none() && text.get("annotations").is_none());
        let back: Record = serde_json::from_value(text).unwrap();
        assert_eq!(back.oci, None);
        assert_eq!(back, record);
    }

    #[test]
    fn a_container_lives_in_a_folder_named_by_its_id() {
        let store = OciStore::at("/s");
        assert_eq!(
            store.container_dir(&id("ab-1.2_c")),
            Path::new("/s/ab-1.2_c")
        );
        assert_eq!(store.fifo(&id("x")), Path::new("/s/x/exec.fifo"));
    }
}
