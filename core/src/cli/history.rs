//! `vessel history IMAGE`: each layer, top first, with the instruction that made it, its
//! size and its digest; config-only steps show as rows without a layer.

use clap::Args;

use super::output::outln;
use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The image.
    image: String,
    /// Print whole digests and instructions.
    #[arg(long)]
    no_trunc: bool,
}

/// Runs `vessel history`.
pub fn history(root: &Root, args: HistoryArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    let image = store.image(&args.image)?;
    outln!("{:<14} {:>10}  CREATED BY", "LAYER", "SIZE");
    // Bottom first in the record, top first on screen, as docker prints it.
    for (step, layer) in image.layer_history().iter().rev() {
        let (layer, size) = match layer {
            Some(digest) => {
                let size = std::fs::metadata(store.layer_tar(digest)).map_or(0, |m| m.len());
                let shown = if args.no_trunc {
                    digest.to_string()
                } else {
                    digest.short().to_owned()
                };
                (shown, super::image::human(size))
            }
            None => ("-".to_owned(), "0 B".to_owned()),
        };
        let mut created_by = if step.created_by.is_empty() {
            "-".to_owned()
        } else {
            step.created_by.replace('\n', " ")
        };
        if !args.no_trunc && created_by.chars().count() > 60 {
            created_by = created_by.chars().take(57).collect::<String>() + "...";
        }
        outln!("{layer:<14} {size:>10}  {created_by}");
    }
    Ok(0)
}
