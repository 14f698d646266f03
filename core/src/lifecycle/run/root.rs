//! The root a new container runs on: a directory used in place (`--rootfs`), or its own
//! layers from an image.
//!
//! Without a directory, a container runs on an overlay of its image's layers, its own
//! init layer and a fresh writable layer under `containers/ID/` in the image store. The
//! writable layer stays after the container exits, for `vessel commit`, unless it is
//! removed once it exits (`--rm`). A container that never started leaves nothing behind.

use std::path::PathBuf;

use crate::image::{BASE_IMAGE, ContainerFs, Store};
use crate::lifecycle::error::Result;
use crate::lifecycle::error::Warn;
use crate::process::error::ProcessError;
use crate::process::spec::ContainerSpec;
use crate::rootfs::volume::Volume;
use crate::state::{ContainerId, Root};

/// The root a container runs on: a plain directory, or its own layers from an image.
#[derive(Debug)]
pub(super) struct ContainerRoot {
    /// What `ContainerSpec::rootfs` should be.
    pub rootfs: PathBuf,
    layers: Option<ContainerFs>,
    keep: bool,
    rm: bool,
    warn: Warn,
}

/// What a container's root is made of, as its request asks.
#[derive(Debug)]
pub(super) struct Source<'a> {
    /// A directory used in place, if any.
    pub dir: Option<PathBuf>,
    /// The image, unless `dir` (`None`: the base image).
    pub image: Option<&'a str>,
    /// `--entrypoint`.
    pub entrypoint: Option<&'a str>,
    /// The command typed after the image.
    pub command: &'a [String],
    /// `--rm`: the layers go when the container has exited.
    pub rm: bool,
}

impl ContainerRoot {
    /// Prepares the root: `source.dir` when given (`--rootfs`, or the rootless
    /// fallback), otherwise a new container `id` of the image. Returns it with the argv
    /// to run: the entrypoint and command resolved against the image's `ENTRYPOINT` and
    /// `CMD` (see `image::command`).
    pub fn prepare(
        vessel_root: &Root,
        source: Source<'_>,
        id: &ContainerId,
        hostname: &str,
        warn: Warn,
    ) -> Result<(ContainerRoot, Vec<String>)> {
        let Source {
            dir,
            image,
            entrypoint,
            command,
            rm,
        } = source;
        if let Some(dir) = dir {
            let root = ContainerRoot {
                rootfs: dir,
                layers: None,
                keep: false,
                rm,
                warn,
            };
            let argv = crate::image::command::resolve(&[], &[], entrypoint, command);
            return Ok((root, argv));
        }
        let store = Store::open_in(vessel_root)?;
        let image = store.image(image.unwrap_or(BASE_IMAGE))?;
        let argv = image.config.argv(entrypoint, command);
        if argv.is_empty() {
            // Refused before any layer exists.
            return Err(ProcessError::NoCommand.into());
        }
        let layers = ContainerFs::create(&store, id, &image, hostname, &argv)?;
        let root = ContainerRoot {
            rootfs: layers.merged(),
            layers: Some(layers),
            keep: false,
            rm,
            warn,
        };
        Ok((root, argv))
    }

    // ANCHOR: apply_image_config
    /// Adds the overlay, the image's environment (before the caller's `-e`), the
    /// volumes, and an anonymous volume for each of the image's `VOLUME`s that no `-v`
    /// mounts over, to `spec`.
    pub fn apply(&self, mut spec: ContainerSpec, volumes: &[Volume]) -> Result<ContainerSpec> {
        if let Some(layers) = &self.layers {
            let user_env = std::mem::take(&mut spec.env);
            spec = spec.overlay(layers.overlay());
            let config = &layers.origin().config;
            for entry in config.env.iter().chain(&user_env) {
                spec = spec.env(entry.clone());
            }
            for (index, target) in config.volumes.iter().enumerate() {
                let target = PathBuf::from(target);
                let named = Volume {
                    host: PathBuf::from("/"),
                    container: target.clone(),
                    read_only: false,
                    attrs: 0,
                };
                if volumes
                    .iter()
                    .any(|v| v.relative_target() == named.relative_target())
                {
                    continue;
                }
                let volume = Volume {
                    host: layers.anonymous_volume(index, &target)?,
                    container: target,
                    read_only: false,
                    attrs: 0,
                };
                volume.check()?;
                spec = spec.volume(volume);
            }
        }
        for volume in volumes {
            spec = spec.volume(volume.clone());
        }
        Ok(spec)
    }

    /// The image's `USER`, for an image-based container that sets one.
    pub fn image_user(&self) -> Option<&str> {
        self.layers
            .as_ref()
            .map(|l| l.origin().config.user.as_str())
            .filter(|user| !user.is_empty())
    }
    // ANCHOR_END: apply_image_config

    /// The image's working directory (`WORKDIR`), for an image-based container.
    pub fn image_workdir(&self) -> Option<&str> {
        self.layers
            .as_ref()
            .map(|l| l.origin().config.working_dir())
    }

    /// The container's own init layer, for an image-based container.
    pub fn init_layer(&self) -> Option<PathBuf> {
        self.layers.as_ref().map(ContainerFs::init)
    }

    /// The container started: keep its layers when it ends, unless `--rm`.
    pub fn started(&mut self) {
        self.keep = !self.rm;
    }

    /// For a detached container: what the supervisor (a fork of this process) runs once
    /// the container has exited. With `--rm` it removes the layers; this process, which
    /// returns while the container still runs, then leaves them alone once started.
    pub fn cleanup_in_shim(&mut self) -> impl FnOnce() + use<> {
        let dir = self
            .layers
            .as_ref()
            .filter(|_| self.rm)
            .map(ContainerFs::dir);
        self.rm = false;
        move || {
            if let Some(dir) = dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

impl Drop for ContainerRoot {
    fn drop(&mut self) {
        if let Some(layers) = self.layers.take()
            && !self.keep
            && let Err(e) = layers.remove()
        {
            (self.warn)(&crate::error_chain::chain(&e));
        }
    }
}
