//! The image store: layers by digest, images by name, and the lock that keeps several
//! `vessel` processes from tripping over each other.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::config::{HistoryEntry, Image, ImageConfig};
use super::error::ImageError;
use super::name::{file_stem, validate_name, with_default_tag};
use crate::layers::digest::HashingWriter;
use crate::layers::{self, Digest, MAX_LOWER_LAYERS, PackSummary, SourceKind};
use crate::state::{ContainerId, Layers, Root, paths};

/// The image made from the default rootfs on first use.
pub const BASE_IMAGE: &str = "base";

/// An image store rooted at one directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// The state root whose default rootfs the `base` image is imported from.
    base_from: PathBuf,
}

/// Holds the store's lock until dropped.
#[derive(Debug)]
pub(crate) struct StoreLock(#[allow(dead_code)] File);

impl Store {
    /// Opens (creating if needed) the store under `root`; `base` comes from the default
    /// rootfs of the state root the environment names.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, ImageError> {
        Store::open_with_base(root.into(), crate::rootfs::state_root())
    }

    /// The store of the state root `root`, `base` included.
    pub fn open_in(root: &Root) -> Result<Store, ImageError> {
        Store::open_with_base(root.dir().to_owned(), root.dir().to_owned())
    }

    fn open_with_base(root: PathBuf, base_from: PathBuf) -> Result<Store, ImageError> {
        let store = Store { root, base_from };
        for dir in [
            store.images_dir(),
            store.layers_dir(),
            store.containers_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(ImageError::store("create", &dir))?;
        }
        store.remove_stale_staging();
        Ok(store)
    }

    // ANCHOR: stale_staging
    /// Removes what an import, pack or record write killed half-way left behind
    /// (`importing-PID.tar`, `packing-PID.tar`, `HEX.unpacking`, `NAME.json.tmp`). Each
    /// exists only while its writer holds the store's lock, so when the lock is free
    /// they are all stale; when it is taken, someone is at work and nothing is touched.
    fn remove_stale_staging(&self) {
        let path = self.root.join("store.lock");
        let Ok(file) = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        else {
            return;
        };
        if file.try_lock().is_err() {
            return;
        }
        for dir in [self.layers_dir(), self.images_dir()] {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let staged = ((name.starts_with("importing-") || name.starts_with("packing-"))
                    && name.ends_with(".tar"))
                    || name.ends_with(".unpacking")
                    || name.ends_with(".json.tmp");
                if staged {
                    let _ = layers::remove_any(&entry.path());
                }
            }
        }
    }
    // ANCHOR_END: stale_staging

    /// The store under vessel's state root (`VESSEL_ROOT`, default `/var/lib/vessel`).
    pub fn open_default() -> Result<Store, ImageError> {
        Store::open_in(&Root::from_env())
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    pub(crate) fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// Where containers' layers live.
    pub fn containers_dir(&self) -> PathBuf {
        paths::containers(&self.root)
    }

    /// Where container `id`'s layers live (`containers/ID`): its upper, work and merged
    /// directories, what they were made from and its running lock.
    pub fn container_dir(&self, id: &ContainerId) -> Layers {
        paths::layers(&self.root, id)
    }

    /// The OCI tar of a layer.
    pub fn layer_tar(&self, digest: &Digest) -> PathBuf {
        self.layers_dir().join(format!("{}.tar", digest.hex()))
    }

    /// The unpacked layer, in overlay's format.
    pub fn layer_dir(&self, digest: &Digest) -> PathBuf {
        self.layers_dir().join(digest.hex())
    }

    /// Takes the store's lock; every change to the store happens under it.
    pub(crate) fn lock(&self) -> Result<StoreLock, ImageError> {
        let path = self.root.join("store.lock");
        let file = File::create(&path).map_err(ImageError::store("create", &path))?;
        file.lock().map_err(ImageError::store("lock", &path))?;
        Ok(StoreLock(file))
    }

    // ANCHOR: add_layer
    /// Packs the directory `dir` as a layer, stores it under its digest and unpacks it.
    /// Call with the lock held.
    pub(crate) fn pack_layer(
        &self,
        dir: &Path,
        kind: SourceKind,
    ) -> Result<(Digest, PackSummary), ImageError> {
        let staging = self
            .layers_dir()
            .join(format!("packing-{}.tar", std::process::id()));
        let file = File::create(&staging).map_err(ImageError::store("create", &staging))?;
        let mut out = HashingWriter::new(BufWriter::new(file));
        let summary = match layers::pack_dir(dir, &mut out, kind) {
            Ok(summary) => summary,
            Err(e) => {
                let _ = fs::remove_file(&staging);
                return Err(e.into());
            }
        };
        let (_, digest, _) = out.finish();
        self.add_layer(&staging, &digest)?;
        Ok((digest, summary))
    }

    /// Moves the staged tar to its content address and unpacks it once. A layer that is
    /// already stored is reused as it is.
    pub(crate) fn add_layer(&self, staged: &Path, digest: &Digest) -> Result<(), ImageError> {
        let tar = self.layer_tar(digest);
        if tar.exists() {
            fs::remove_file(staged).map_err(ImageError::store("remove", staged))?;
        } else {
            fs::rename(staged, &tar).map_err(ImageError::store("store layer", &tar))?;
        }
        let dir = self.layer_dir(digest);
        if dir.exists() {
            return Ok(());
        }
        // Unpacked beside its final place and renamed: a half-unpacked layer is never used.
        let unpacking = self
            .layers_dir()
            .join(format!("{}.unpacking", digest.hex()));
        if unpacking.exists() {
            fs::remove_dir_all(&unpacking).map_err(ImageError::store("remove", &unpacking))?;
        }
        if let Err(e) = layers::unpack_layer(&tar, &unpacking) {
            let _ = fs::remove_file(&tar);
            return Err(e.into());
        }
        fs::rename(&unpacking, &dir).map_err(ImageError::store("store layer", &dir))
    }
    // ANCHOR_END: add_layer

    /// Imports a directory tree or an OCI layer tar as the one-layer image `name`
    /// (replacing an image of that name). The summary lists what a directory had that a
    /// layer cannot carry (device nodes, sockets); it is empty for a tar.
    pub fn import(&self, source: &Path, name: &str) -> Result<(Image, PackSummary), ImageError> {
        validate_name(name)?;
        let _lock = self.lock()?;
        let meta = fs::metadata(source).map_err(ImageError::store("read import source", source))?;
        let (digest, summary) = if meta.is_dir() {
            self.pack_layer(source, SourceKind::Plain)?
        } else if meta.is_file() {
            (self.import_tar(source)?, PackSummary::default())
        } else {
            return Err(ImageError::BadSource(source.to_owned()));
        };
        let image = Image {
            name: name.to_owned(),
            layers: vec![digest],
            config: ImageConfig::default(),
            created: super::now(),
            history: vec![HistoryEntry::layer(format!(
                "vessel image import {}",
                source.display()
            ))],
        };
        self.save(&image)?;
        Ok((image, summary))
    }

    fn import_tar(&self, source: &Path) -> Result<Digest, ImageError> {
        let staging = self
            .layers_dir()
            .join(format!("importing-{}.tar", std::process::id()));
        let copy = || -> io::Result<Digest> {
            let mut input = File::open(source)?;
            let mut out = HashingWriter::new(BufWriter::new(File::create(&staging)?));
            io::copy(&mut input, &mut out)?;
            let (mut file, digest, _) = out.finish();
            file.flush()?;
            Ok(digest)
        };
        let digest = copy().map_err(|e| {
            let _ = fs::remove_file(&staging);
            ImageError::store("copy layer", source)(e)
        })?;
        // A tar cut short fails here, as GNU tar does; one with no entries (an empty or
        // all-zero file) is no image.
        match layers::count_entries(&staging) {
            Ok(0) => {
                let _ = fs::remove_file(&staging);
                return Err(ImageError::NoFiles(source.to_owned()));
            }
            Err(e) => {
                let _ = fs::remove_file(&staging);
                return Err(e.into());
            }
            Ok(_) => {}
        }
        self.add_layer(&staging, &digest)?;
        Ok(digest)
    }

    /// Saves an image record whose layers are all in the store (atomically: write,
    /// then rename), replacing an image of the same name.
    pub fn save(&self, image: &Image) -> Result<(), ImageError> {
        validate_name(&image.name)?;
        if let Some(missing) = image.layers.iter().find(|d| !self.layer_dir(d).is_dir()) {
            return Err(ImageError::Store {
                action: "find layer",
                path: self.layer_dir(missing),
                source: io::Error::from(io::ErrorKind::NotFound),
            });
        }
        if image.layers.len() > MAX_LOWER_LAYERS - 1 {
            // One lower slot is the container's init layer.
            return Err(ImageError::TooManyLayers {
                name: image.name.clone(),
                count: image.layers.len(),
                max: MAX_LOWER_LAYERS - 1,
            });
        }
        let path = self.image_path(&image.name);
        write_json(&path, image)
    }

    pub(crate) fn image_path(&self, name: &str) -> PathBuf {
        self.images_dir().join(format!("{}.json", file_stem(name)))
    }

    /// Whether an image is stored under exactly this name.
    pub fn has_image(&self, name: &str) -> bool {
        validate_name(name).is_ok() && self.image_path(name).exists()
    }

    /// The image called `name`; `base` is imported from the default rootfs on first use.
    pub fn image(&self, name: &str) -> Result<Image, ImageError> {
        validate_name(name)?;
        if name == BASE_IMAGE && !self.image_path(name).exists() {
            let _lock = self.lock()?;
            if !self.image_path(name).exists() {
                self.import_base()?;
            }
        }
        let mut path = self.image_path(name);
        // `busybox` finds `busybox:latest`, as docker's short names do.
        if !path.exists()
            && let Some(tagged) = with_default_tag(name)
            && self.image_path(&tagged).exists()
        {
            path = self.image_path(&tagged);
        }
        match read_json(&path) {
            Err(ImageError::Store { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(ImageError::NotFound(name.to_owned()))
            }
            other => other,
        }
    }

    fn import_base(&self) -> Result<(), ImageError> {
        let rootfs = crate::rootfs::default_rootfs_in(&self.base_from).map_err(ImageError::Base)?;
        let (digest, _) = self.pack_layer(&rootfs, SourceKind::Plain)?;
        self.save(&Image {
            name: BASE_IMAGE.to_owned(),
            layers: vec![digest],
            config: ImageConfig::default(),
            created: super::now(),
            history: vec![HistoryEntry::layer("vessel default rootfs")],
        })
    }

    /// Every image, sorted by name.
    pub fn images(&self) -> Result<Vec<Image>, ImageError> {
        let mut images: Vec<Image> = json_files(&self.images_dir())?
            .iter()
            .map(|path| read_json(path))
            .collect::<Result<_, _>>()?;
        images.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(images)
    }

    /// Removes the image `name`, refusing while a container uses it, then deletes the
    /// layers nothing refers to any more. Returns those layers.
    pub fn remove_image(&self, name: &str) -> Result<Vec<Digest>, ImageError> {
        validate_name(name)?;
        let _lock = self.lock()?;
        let path = self.image_path(name);
        if !path.exists() {
            return Err(ImageError::NotFound(name.to_owned()));
        }
        if let Some(user) = self.containers()?.into_iter().find(|c| c.image == name) {
            return Err(ImageError::InUse {
                image: name.to_owned(),
                container: user.id.to_string(),
            });
        }
        fs::remove_file(&path).map_err(ImageError::store("remove", &path))?;
        self.collect_garbage()
    }

    /// Deletes layers no image and no container refers to. Call with the lock held.
    pub(crate) fn collect_garbage(&self) -> Result<Vec<Digest>, ImageError> {
        let mut used: HashSet<Digest> = HashSet::new();
        for image in self.images()? {
            used.extend(image.layers);
        }
        for container in self.containers()? {
            used.extend(container.layers);
        }
        let dir = self.layers_dir();
        let mut removed = Vec::new();
        for entry in fs::read_dir(&dir).map_err(ImageError::store("read", &dir))? {
            let entry = entry.map_err(ImageError::store("read", &dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(digest) = Digest::parse(name.strip_suffix(".tar").unwrap_or(&name)) else {
                continue;
            };
            if used.contains(&digest) {
                continue;
            }
            let path = entry.path();
            let result = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            result.map_err(ImageError::store("remove unused layer", &path))?;
            if !name.ends_with(".tar") {
                removed.push(digest);
            }
        }
        removed.sort();
        Ok(removed)
    }
}

/// Writes `value` as JSON to `path` atomically (a temporary file, then rename).
pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ImageError> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(value).expect("image records always serialize");
    fs::write(&tmp, text).map_err(ImageError::store("write", &tmp))?;
    fs::rename(&tmp, path).map_err(ImageError::store("write", path))
}

/// Reads a JSON record.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ImageError> {
    let text = fs::read(path).map_err(ImageError::store("read", path))?;
    serde_json::from_slice(&text).map_err(|source| ImageError::BadRecord {
        path: path.to_owned(),
        source,
    })
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(ImageError::store("read", dir))? {
        let path = entry.map_err(ImageError::store("read", dir))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(files)
}
