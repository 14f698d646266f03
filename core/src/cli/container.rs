//! `vessel container ls|rm`: the containers whose layers are kept in the image store.

use clap::{Args, Subcommand};

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
    /// Remove a stopped container's layers, and the image layers no one uses any more.
    Rm {
        /// The container's id, a unique prefix of it, or its --name.
        container: String,
    },
}

/// Runs `vessel container …`.
pub fn container(args: ContainerArgs) -> Result<i32> {
    let store = Store::open_default()?;
    match args.command {
        ContainerCommand::Ls => {
            println!("{:<12}  {:<20}  COMMAND", "ID", "IMAGE");
            for c in store.containers()? {
                println!("{:<12}  {:<20}  {}", c.id, c.image, c.command.join(" "));
            }
        }
        ContainerCommand::Rm { container } => {
            let record = store.remove_container(&resolve(&store, &container)?)?;
            println!("{}", record.id);
        }
    }
    Ok(0)
}

/// The id of the container `query` names: an id or unique id prefix in the image store,
/// or else a `--name` given to `vessel run -d`.
pub(super) fn resolve(store: &Store, query: &str) -> Result<String> {
    match store.container(query) {
        Ok(record) => Ok(record.id),
        Err(not_found @ ImageError::ContainerNotFound(_)) => {
            match StateDir::open().and_then(|s| s.find(query)) {
                Ok(record) => Ok(record.id),
                Err(_) => Err(not_found.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}
