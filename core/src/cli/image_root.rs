//! The image side of `vessel run`: `--image`, `--entrypoint`, `--rm` and `-v` (the
//! container's layers are the library's: see `lifecycle/run/root.rs`).

use clap::Args;

use crate::rootfs::volume::Volume;

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
