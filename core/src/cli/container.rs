//! `vessel container ls|rm`: the containers whose layers are kept in the image store
//! (`rm` is `vessel rm`).

use clap::{Args, Subcommand};

use super::output::outln;
use crate::error::Result;
use crate::image::{ImageError, Store};
use crate::state::StateDir;

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
pub fn container(args: ContainerArgs) -> Result<i32> {
    match args.command {
        ContainerCommand::Ls => {
            let store = Store::open_default()?;
            outln!("{:<12}  {:<20}  COMMAND", "ID", "IMAGE");
            for c in store.containers()? {
                outln!("{:<12}  {:<20}  {}", c.id, c.image, c.command.join(" "));
            }
        }
        ContainerCommand::Rm(args) => return super::rm::rm(args),
    }
    Ok(0)
}

/// The id of the container `query` names: an id, unique id prefix or name among the
/// container records, or else an id or unique prefix among the image store's kept
/// layers (made through the library, without a record).
pub(super) fn resolve(store: &Store, query: &str) -> Result<String> {
    match StateDir::open().and_then(|s| s.find(query)) {
        Ok(record) => Ok(record.id),
        Err(not_found @ crate::Error::NoSuchContainer(_)) => match store.container(query) {
            Ok(record) => Ok(record.id),
            Err(ImageError::ContainerNotFound(_)) => Err(not_found),
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e),
    }
}
