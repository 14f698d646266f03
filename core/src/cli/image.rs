//! `vessel image …` and `vessel images`: the image store from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::output::{errln, outln};
use crate::error::Result;
use crate::image::{Change, Store};
use crate::state::Root;

/// Arguments of `vessel image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Import a directory tree or an OCI layer tar as a one-layer image.
    Import {
        /// A directory, or an uncompressed OCI layer tar.
        source: PathBuf,
        /// The new image's name.
        name: String,
        /// Set the image's config: CMD, ENTRYPOINT, ENV or WORKDIR, as for `vessel commit`
        /// (repeatable).
        #[arg(short = 'c', long = "change", value_name = "INSTRUCTION", value_parser = super::commit::parse_change)]
        changes: Vec<Change>,
    },
    /// List images (same as `vessel images`).
    Ls,
    /// Print an image's record: layers (bottom first) and config, as JSON.
    Inspect {
        /// The image's name.
        name: String,
    },
    /// Remove an image (refused while a container uses it) and the layers no one uses.
    Rm {
        /// The image's name.
        name: String,
    },
    /// Remove layers no image or container uses and unfinished pull downloads.
    Prune {
        /// Also remove every image no container was made from.
        #[arg(short, long)]
        all: bool,
    },
}

/// Runs `vessel image …`.
pub fn image(root: &Root, args: ImageArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    match args.command {
        ImageCommand::Import {
            source,
            name,
            changes,
        } => {
            let (mut image, summary) = store.import(&source, &name)?;
            if !changes.is_empty() {
                crate::image::apply_changes(&mut image.config, &changes);
                store.save(&image)?;
            }
            for path in &summary.skipped {
                errln!(
                    "vessel: left out /{} (device nodes and sockets cannot be in a layer)",
                    path.display()
                );
            }
            outln!("{}", image.layers[0]);
        }
        ImageCommand::Ls => return images(&store),
        ImageCommand::Inspect { name } => {
            let image = store.image(&name)?;
            let text = serde_json::to_string_pretty(&image).expect("images always serialize");
            outln!("{text}");
        }
        ImageCommand::Rm { name } => {
            for layer in store.remove_image(&name)? {
                outln!("deleted layer {layer}");
            }
            outln!("removed image {name}");
        }
        ImageCommand::Prune { all } => {
            let pruned = store.prune(all)?;
            for name in &pruned.images {
                outln!("removed image {name}");
            }
            for layer in &pruned.layers {
                outln!("deleted layer {layer}");
            }
            if pruned.downloads > 0 {
                outln!("deleted {} unfinished downloads", pruned.downloads);
            }
        }
    }
    Ok(0)
}

/// `vessel images`: one line per image.
pub fn images(store: &Store) -> Result<i32> {
    // The base image is listed once it exists; it is made on first use.
    outln!("{:<24} {:>6}  {:<12}  SIZE", "NAME", "LAYERS", "TOP LAYER");
    for image in store.images()? {
        let size: u64 = image
            .layers
            .iter()
            .filter_map(|d| std::fs::metadata(store.layer_tar(d)).ok())
            .map(|m| m.len())
            .sum();
        let top = image.layers.last().map_or("-", |d| d.short());
        outln!(
            "{:<24} {:>6}  {top:<12}  {}",
            image.name,
            image.layers.len(),
            human(size)
        );
    }
    Ok(0)
}

pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
