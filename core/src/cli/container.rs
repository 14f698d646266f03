//! `vessel container ls|rm`: the containers whose layers are kept in the image store
//! (`rm` is `vessel rm`).

use clap::{Args, Subcommand};

use super::output::outln;
use crate::error::Result;
use crate::image::Store;
use crate::state::Root;

/// Arguments of `vessel container`.
#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    command: ContainerCommand,
}

#[derive(Debug, Subcommand)]
enum ContainerCommand {
    /// List containers whose layers are kept (every `vessel run` without `--rm`).
    Ls,
    /// The same as `vessel rm`: remove containers, their layers and everything else
    /// they left (and the image layers no one uses any more).
    Rm(super::rm::RmArgs),
}

/// Runs `vessel container …`.
pub fn container(root: &Root, args: ContainerArgs) -> Result<i32> {
    match args.command {
        ContainerCommand::Ls => {
            let store = Store::open_in(root)?;
            outln!("{:<12}  {:<20}  COMMAND", "ID", "IMAGE");
            for c in store.containers()? {
                outln!("{:<12}  {:<20}  {}", c.id, c.image, c.command.join(" "));
            }
        }
        ContainerCommand::Rm(args) => return super::rm::rm(root, args),
    }
    Ok(0)
}
