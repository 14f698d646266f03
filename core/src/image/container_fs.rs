//! A container's own layers: the init layer, the writable upper layer, overlay's work
//! dir and the merged mount point, under `containers/ID/` in the store (spelled by
//! [`crate::state::paths`]).
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
use crate::state::{Candidate, ContainerId, Layers};

/// What a container's own layers were made from, kept beside them (`container.json`):
/// the part of a container that belongs to the image store. It is not the container's
/// record (that is [`crate::state::Record`], in the run directory, which names these
/// layers): it outlives the run directory (a tmpfs, emptied at reboot) as the layers do,
/// and a library user's container has no record at all. So the store reads it to know
/// which images and layers are still in use, and `commit` what to build on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayersOrigin {
    /// The container the layers belong to (the name of their folder, too).
    pub id: ContainerId,
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

impl Candidate for LayersOrigin {
    fn id(&self) -> &ContainerId {
        &self.id
    }
}

/// A container's layers on disk, locked as running while this value lives.
#[derive(Debug)]
pub struct ContainerFs {
    layers: Layers,
    origin: LayersOrigin,
    lowers: Vec<PathBuf>,
    _running: File,
}

impl ContainerFs {
    /// Makes the directories for container `id` from `image`, with an init layer for
    /// `hostname`, and marks the container running.
    pub fn create(
        store: &Store,
        id: &ContainerId,
        image: &Image,
        hostname: &str,
        command: &[String],
    ) -> Result<ContainerFs, ImageError> {
        let _lock = store.lock()?;
        let layers = store.container_dir(id);
        let dir = layers.dir();
        fs::create_dir(dir).map_err(ImageError::store("create container directory", dir))?;
        let made = (|| {
            let running = lock_running(&layers)?;
            let init = layers.init();
            init_layer::write(&init, hostname)
                .map_err(ImageError::store("write the init layer in", &init))?;
            for path in [layers.upper(), layers.work(), layers.merged()] {
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
            let origin = LayersOrigin {
                id: id.clone(),
                image: image.name.clone(),
                layers: image.layers.clone(),
                config: image.config.clone(),
                history: image.history.clone(),
                command: command.to_vec(),
                created: super::now(),
            };
            write_json(&layers.origin(), &origin)?;
            Ok(ContainerFs {
                layers: layers.clone(),
                origin,
                lowers,
                _running: running,
            })
        })();
        if made.is_err() {
            let _ = fs::remove_dir_all(layers.dir());
        }
        made
    }

    /// The container's directory in the store.
    pub fn dir(&self) -> PathBuf {
        self.layers.dir().to_owned()
    }

    /// What the layers were made from.
    pub fn origin(&self) -> &LayersOrigin {
        &self.origin
    }

    /// The directory the overlay is mounted on (inside the container's mount namespace
    /// only: on the host it stays an empty directory).
    pub fn merged(&self) -> PathBuf {
        self.layers.merged()
    }

    /// The writable layer.
    pub fn upper(&self) -> PathBuf {
        self.layers.upper()
    }

    /// The init layer.
    pub fn init(&self) -> PathBuf {
        self.layers.init()
    }

    /// The anonymous volume that the image's `VOLUME` `target` gets: a directory under
    /// the container's, so it goes when the container's layers go (as docker's anonymous
    /// volumes go with `docker rm -v` / `--rm`), made once and filled with what the image
    /// has at `target`, as docker fills a new volume.
    pub fn anonymous_volume(&self, index: usize, target: &Path) -> Result<PathBuf, ImageError> {
        let volumes = self.layers.volumes();
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
            work: self.layers.work(),
        }
    }

    /// Removes the container's layers (`vessel run --rm`, or a container that never
    /// started).
    /// Already gone is fine: `vessel run -d --rm`'s supervisor may have been first.
    pub fn remove(self) -> Result<(), ImageError> {
        let dir = self.layers.dir();
        match fs::remove_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(ImageError::store("remove container", dir)(e))
            }
            _ => Ok(()),
        }
    }
}

/// Takes the container's "running" lock without waiting. `flock` locks belong to the
/// open file, so the lock lives exactly as long as the process that holds the file (and
/// its forks, such as `vessel run -d`'s supervisor).
fn lock_running(layers: &Layers) -> Result<File, ImageError> {
    let path = layers.running_lock();
    let file = File::create(&path).map_err(ImageError::store("create", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ImageError::ContainerRunning(
            layers
                .dir()
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(ImageError::store("lock", &path)(e)),
    }
}

impl Store {
    /// What every container's layers in the store were made from, by id.
    pub fn containers(&self) -> Result<Vec<LayersOrigin>, ImageError> {
        let dir = self.containers_dir();
        let mut origins = Vec::new();
        for entry in fs::read_dir(&dir).map_err(ImageError::store("read", &dir))? {
            let entry = entry.map_err(ImageError::store("read", &dir))?;
            match read_json(&Layers::at(entry.path()).origin()) {
                Ok(origin) => origins.push(origin),
                // Not made yet, or removed since the listing (a concurrent `vessel rm`).
                Err(ImageError::Store { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        origins.sort_by(|a: &LayersOrigin, b| a.id.cmp(&b.id));
        Ok(origins)
    }

    /// What container `id`'s layers were made from (`id` exactly: finding the container
    /// a user typed is [`crate::state::resolve`]'s).
    pub fn container(&self, id: &ContainerId) -> Result<LayersOrigin, ImageError> {
        match read_json(&self.container_dir(id).origin()) {
            Err(ImageError::Store { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(ImageError::NoLayers(id.clone()))
            }
            found => found,
        }
    }

    /// Removes a stopped container's layers, then the layers nothing uses any more.
    pub fn remove_container(&self, id: &ContainerId) -> Result<LayersOrigin, ImageError> {
        let origin = self.container(id)?;
        let _lock = self.lock()?;
        let layers = self.container_dir(id);
        let _running = lock_running(&layers)?;
        // What they were made from goes first: a half-removed directory is no longer a
        // container's layers.
        let path = layers.origin();
        fs::remove_file(&path).map_err(ImageError::store("remove", &path))?;
        let dir = layers.dir();
        fs::remove_dir_all(dir).map_err(ImageError::store("remove container", dir))?;
        self.collect_garbage()?;
        Ok(origin)
    }
}
