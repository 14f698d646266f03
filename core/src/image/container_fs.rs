//! A container's own layers: the init layer, the writable upper layer, overlay's work
//! dir and the merged mount point, under `containers/ID/` in the store.
//!
//! The directories stay after the container exits (unless `vessel run --rm`), so that
//! `vessel commit` can pack the upper layer. While the container runs, `vessel run` holds
//! a lock on `running.lock`; `vessel container rm` refuses while it is held.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::config::{HistoryEntry, Image, ImageConfig};
use super::error::ImageError;
use super::init_layer;
use super::store::{Store, read_json, write_json};
use crate::layers::{Digest, OverlayRootfs};

/// The record file in a container's directory.
pub(crate) const RECORD: &str = "container.json";
const RUNNING_LOCK: &str = "running.lock";

/// What a container's layers were made from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    /// The container id (12 hex digits).
    pub id: String,
    /// The image it was made from.
    pub image: String,
    /// That image's layers when the container was made, bottom first.
    pub layers: Vec<Digest>,
    /// That image's config, which a commit carries over.
    pub config: ImageConfig,
    /// That image's history, which a commit extends.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// The command it ran.
    pub command: Vec<String>,
    /// When it was made (seconds since the epoch).
    pub created: u64,
}

/// A container's layers on disk, locked as running while this value lives.
#[derive(Debug)]
pub struct ContainerFs {
    dir: PathBuf,
    record: ContainerRecord,
    lowers: Vec<PathBuf>,
    _running: File,
}

impl ContainerFs {
    /// Makes the directories for container `id` from `image`, with an init layer for
    /// `hostname`, and marks the container running.
    pub fn create(
        store: &Store,
        id: &str,
        image: &Image,
        hostname: &str,
        command: &[String],
    ) -> Result<ContainerFs, ImageError> {
        let _lock = store.lock()?;
        let dir = store.container_dir(id);
        fs::create_dir(&dir).map_err(ImageError::store("create container directory", &dir))?;
        let made = (|| {
            let running = lock_running(&dir)?;
            let init = dir.join("init");
            init_layer::write(&init, hostname)
                .map_err(ImageError::store("write the init layer in", &init))?;
            for sub in ["upper", "work", "merged"] {
                let path = dir.join(sub);
                fs::create_dir(&path).map_err(ImageError::store("create", &path))?;
            }
            let mut lowers = vec![init];
            for digest in image.layers.iter().rev() {
                let layer = store.layer_dir(digest);
                if !layer.is_dir() {
                    return Err(ImageError::Store {
                        action: "find layer of image",
                        path: layer,
                        source: io::Error::from(io::ErrorKind::NotFound),
                    });
                }
                lowers.push(layer);
            }
            let record = ContainerRecord {
                id: id.to_owned(),
                image: image.name.clone(),
                layers: image.layers.clone(),
                config: image.config.clone(),
                history: image.history.clone(),
                command: command.to_vec(),
                created: super::now(),
            };
            write_json(&dir.join(RECORD), &record)?;
            Ok(ContainerFs {
                dir: dir.clone(),
                record,
                lowers,
                _running: running,
            })
        })();
        if made.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        made
    }

    /// The container's directory in the store.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone()
    }

    /// The container's record.
    pub fn record(&self) -> &ContainerRecord {
        &self.record
    }

    /// The directory the overlay is mounted on (inside the container's mount namespace
    /// only: on the host it stays an empty directory).
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// The writable layer.
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    /// The init layer.
    pub fn init(&self) -> PathBuf {
        self.dir.join("init")
    }

    /// The anonymous volume that the image's `VOLUME` `target` gets: a directory under
    /// the container's, so it goes when the container's layers go (as docker's anonymous
    /// volumes go with `docker rm -v` / `--rm`), made once and filled with what the image
    /// has at `target`, as docker fills a new volume.
    pub fn anonymous_volume(&self, index: usize, target: &Path) -> Result<PathBuf, ImageError> {
        let volumes = self.dir.join("volumes");
        let dir = volumes.join(index.to_string());
        fs::create_dir_all(&volumes)
            .map_err(ImageError::store("create anonymous volume", &volumes))?;
        match fs::create_dir(&dir) {
            // Made already: a restarted container keeps what it wrote there.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(dir),
            made => made.map_err(ImageError::store("create anonymous volume", &dir))?,
        }
        if let Err(e) = super::volume_seed::seed(&self.overlay(), &self.merged(), target, &dir) {
            let _ = fs::remove_dir_all(&dir);
            return Err(ImageError::store(
                "copy the image's files into the anonymous volume",
                &dir,
            )(e));
        }
        Ok(dir)
    }

    /// The overlay to mount: init layer on top of the image's layers, then the upper.
    pub fn overlay(&self) -> OverlayRootfs {
        OverlayRootfs {
            lowers: self.lowers.clone(),
            upper: self.upper(),
            work: self.dir.join("work"),
        }
    }

    /// Removes the container's layers (`vessel run --rm`, or a container that never
    /// started).
    /// Already gone is fine: `vessel run -d --rm`'s supervisor may have been first.
    pub fn remove(self) -> Result<(), ImageError> {
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(ImageError::store("remove container", &self.dir)(e))
            }
            _ => Ok(()),
        }
    }
}

/// Takes the container's "running" lock without waiting. `flock` locks belong to the
/// open file, so the lock lives exactly as long as the process that holds the file (and
/// its forks, such as `vessel run -d`'s supervisor).
fn lock_running(dir: &Path) -> Result<File, ImageError> {
    let path = dir.join(RUNNING_LOCK);
    let file = File::create(&path).map_err(ImageError::store("create", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ImageError::ContainerRunning(
            dir.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(ImageError::store("lock", &path)(e)),
    }
}

impl Store {
    /// Every container record in the store.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>, ImageError> {
        let dir = self.containers_dir();
        let mut records = Vec::new();
        for entry in fs::read_dir(&dir).map_err(ImageError::store("read", &dir))? {
            let entry = entry.map_err(ImageError::store("read", &dir))?;
            let path = entry.path().join(RECORD);
            match read_json(&path) {
                Ok(record) => records.push(record),
                // Not made yet, or removed since the listing (a concurrent `vessel rm`).
                Err(ImageError::Store { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        records.sort_by(|a: &ContainerRecord, b| a.id.cmp(&b.id));
        Ok(records)
    }

    /// Finds a container by id or unique id prefix.
    pub fn container(&self, query: &str) -> Result<ContainerRecord, ImageError> {
        let matches: Vec<ContainerRecord> = self
            .containers()?
            .into_iter()
            .filter(|c| c.id.starts_with(query) && !query.is_empty())
            .collect();
        match matches.len() {
            0 => Err(ImageError::ContainerNotFound(query.to_owned())),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(ImageError::AmbiguousContainer {
                prefix: query.to_owned(),
                ids: matches
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The upper (writable) layer of container `id`.
    pub fn container_upper(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("upper")
    }

    /// Removes a stopped container's layers, then the layers nothing uses any more.
    pub fn remove_container(&self, query: &str) -> Result<ContainerRecord, ImageError> {
        let record = self.container(query)?;
        let _lock = self.lock()?;
        let dir = self.container_dir(&record.id);
        let _running = lock_running(&dir)?;
        // The record goes first: a half-removed directory is no longer a container.
        let path = dir.join(RECORD);
        fs::remove_file(&path).map_err(ImageError::store("remove", &path))?;
        fs::remove_dir_all(&dir).map_err(ImageError::store("remove container", &dir))?;
        self.collect_garbage()?;
        Ok(record)
    }
}
