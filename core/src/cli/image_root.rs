//! The image side of `vessel run`: `--image`, `--entrypoint`, `--rm` and `-v`.
//!
//! Without `--rootfs`, a container runs on an overlay of its image's layers, its own
//! init layer and a fresh writable layer under `containers/ID/` in the image store. The
//! writable layer stays after the container exits, for `vessel commit`, unless `--rm`
//! is given. A container that never started leaves nothing behind.

use std::path::PathBuf;

use clap::Args;

use super::output::errln;
use crate::error::Result;
use crate::image::{BASE_IMAGE, ContainerFs, Store};
use crate::process::spec::ContainerSpec;
use crate::rootfs::volume::Volume;
use crate::state::{ContainerId, Root};

/// The image, volume and clean-up flags of `vessel run`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image to run (see `vessel images`) [default: base, the built-in rootfs].
    #[arg(long, value_name = "NAME", conflicts_with = "rootfs")]
    pub image: Option<String>,
    /// Remove the container's writable layer when it exits (otherwise it is kept for
    /// `vessel commit`; remove it later with `vessel container rm`).
    #[arg(long)]
    pub rm: bool,
    /// Bind-mount a host path into the container, read-only with `:ro` (repeatable).
    #[arg(short = 'v', long = "volume", value_name = "HOST:CTR[:ro]", value_parser = parse_volume)]
    pub volumes: Vec<Volume>,
    /// Run PROGRAM instead of the image's ENTRYPOINT; the image's CMD is dropped too, so
    /// the arguments after `--` are PROGRAM's. `--entrypoint ""` resets it.
    #[arg(long, value_name = "PROGRAM")]
    pub entrypoint: Option<String>,
}

fn parse_volume(spec: &str) -> std::result::Result<Volume, String> {
    Volume::parse(spec).map_err(|e| super::error_chain(&e))
}

/// The root a container runs on: a plain directory, or its own layers from an image.
#[derive(Debug)]
pub struct ContainerRoot {
    /// What `ContainerSpec::rootfs` should be.
    pub rootfs: PathBuf,
    layers: Option<ContainerFs>,
    keep: bool,
    rm: bool,
}

impl ImageArgs {
    /// Prepares the root: `rootfs` when given, otherwise a new container of the image.
    /// Returns it with the argv to run: `--entrypoint` and `command` resolved against
    /// the image's `ENTRYPOINT` and `CMD` (see `image::command`).
    pub fn prepare(
        &self,
        vessel_root: &Root,
        rootfs: Option<PathBuf>,
        id: &ContainerId,
        hostname: &str,
        command: &[String],
    ) -> Result<(ContainerRoot, Vec<String>)> {
        let entrypoint = self.entrypoint.as_deref();
        if let Some(dir) = rootfs {
            let root = ContainerRoot {
                rootfs: dir,
                layers: None,
                keep: false,
                rm: self.rm,
            };
            let argv = crate::image::command::resolve(&[], &[], entrypoint, command);
            return Ok((root, argv));
        }
        let store = Store::open_in(vessel_root)?;
        let image = store.image(self.image.as_deref().unwrap_or(BASE_IMAGE))?;
        let argv = image.config.argv(entrypoint, command);
        if argv.is_empty() {
            // Refused before any layer exists.
            return Err(crate::process::error::ProcessError::NoCommand.into());
        }
        let layers = ContainerFs::create(&store, id, &image, hostname, &argv)?;
        let root = ContainerRoot {
            rootfs: layers.merged(),
            layers: Some(layers),
            keep: false,
            rm: self.rm,
        };
        Ok((root, argv))
    }
}

impl ContainerRoot {
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

    /// For `vessel run -d`: what the supervisor (a fork of this process) runs once the
    /// container has exited. With `--rm` it removes the layers; this process, which
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
            errln!("vessel: {}", super::error_chain(&e));
        }
    }
}
