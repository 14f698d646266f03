//! Where each piece of a container lives on disk, spelled once: every other module asks
//! here, so a path is never built in two places that could drift apart.
//!
//! ```text
//! RUN/ID.json                      its record (RUN: the run directory, see StateDir)
//! RUN/.ID.json.tmp                 the record being rewritten, until renamed over it
//! RUN/ID.log                       a detached container's output
//! ROOT/containers/ID/              its own layers (ROOT: the state root, --root)
//!              container.json      what they were made from (image, layers, config)
//!              init/ upper/ work/ merged/ volumes/
//!              running.lock        held while it runs
//! ROOT/oci/ID/state.json           a container made by `vessel create`
//! ROOT/oci/ID/exec.fifo            the pipe its init waits on until `start`
//! ```

use std::path::{Path, PathBuf};

use super::id::ContainerId;

/// The record of container `id` in the run directory `run`.
pub fn record(run: &Path, id: &ContainerId) -> PathBuf {
    run.join(format!("{id}.json"))
}

/// Where a record is written before it is renamed over [`record`].
pub fn record_scratch(run: &Path, id: &ContainerId) -> PathBuf {
    run.join(format!(".{id}.json.tmp"))
}

/// The id a file of the run directory is the record of, if it is one.
pub fn record_id(file_name: &str) -> Option<&str> {
    file_name
        .strip_suffix(".json")
        .filter(|id| !id.starts_with('.'))
}

/// A detached container's log, beside its record.
pub fn log(run: &Path, id: &ContainerId) -> PathBuf {
    run.join(format!("{id}.log"))
}

/// The folder of the state root that holds one folder per container's layers.
pub fn containers(root: &Path) -> PathBuf {
    root.join("containers")
}

/// Container `id`'s own layers under the state root `root`.
pub fn layers(root: &Path, id: &ContainerId) -> Layers {
    Layers(containers(root).join(id.as_str()))
}

/// The folder of the state root that holds the containers `vessel create` made.
pub fn oci(root: &Path) -> PathBuf {
    root.join("oci")
}

/// The folder of OCI container `id` in the folder [`oci`] names.
pub fn oci_container(oci: &Path, id: &ContainerId) -> PathBuf {
    oci.join(id.as_str())
}

/// The state file of an OCI container whose folder is `dir` (`ROOT/oci/ID`).
pub fn oci_state(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Where [`oci_state`] is written before it is renamed into place.
pub fn oci_state_scratch(dir: &Path) -> PathBuf {
    dir.join("state.json.new")
}

/// The exec fifo of an OCI container whose folder is `dir`.
pub fn exec_fifo(dir: &Path) -> PathBuf {
    dir.join("exec.fifo")
}

/// A container's own layers: `ROOT/containers/ID` and what is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers(PathBuf);

impl Layers {
    /// The layers whose folder is `dir` (as a record names it).
    pub fn at(dir: impl Into<PathBuf>) -> Layers {
        Layers(dir.into())
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// The state root they are under: the inverse of [`layers`].
    pub fn root(&self) -> &Path {
        self.0
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/"))
    }

    /// What they were made from (image, its layers, config and history).
    pub fn origin(&self) -> PathBuf {
        self.0.join("container.json")
    }

    /// The lock held while the container runs.
    pub fn running_lock(&self) -> PathBuf {
        self.0.join("running.lock")
    }

    /// The init layer (hostname, hosts, resolv.conf).
    pub fn init(&self) -> PathBuf {
        self.0.join("init")
    }

    /// The writable layer.
    pub fn upper(&self) -> PathBuf {
        self.0.join("upper")
    }

    /// overlayfs's work directory.
    pub fn work(&self) -> PathBuf {
        self.0.join("work")
    }

    /// The overlay's mount point.
    pub fn merged(&self) -> PathBuf {
        self.0.join("merged")
    }

    /// The anonymous volumes.
    pub fn volumes(&self) -> PathBuf {
        self.0.join("volumes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_know_the_root_they_are_under() {
        let id = ContainerId::parse("0123456789ab").unwrap();
        let layers = layers(Path::new("/var/lib/vessel"), &id);
        assert_eq!(
            layers.dir(),
            Path::new("/var/lib/vessel/containers/0123456789ab")
        );
        assert_eq!(layers.root(), Path::new("/var/lib/vessel"));
        assert_eq!(Layers::at(layers.dir()), layers);
    }

    #[test]
    fn only_record_files_name_an_id() {
        let id = ContainerId::parse("0123456789ab").unwrap();
        let run = Path::new("/run/vessel");
        let name = |p: PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(record_id(&name(record(run, &id))), Some("0123456789ab"));
        assert_eq!(record_id(&name(record_scratch(run, &id))), None);
        assert_eq!(record_id(&name(log(run, &id))), None);
    }
}
