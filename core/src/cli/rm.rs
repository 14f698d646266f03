//! `vessel rm`: remove containers and everything they left on the host.

use clap::Args;

use super::output::errln;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::lifecycle::{self, LifecycleError};
use crate::state::Root;
use crate::state::{self, StateDir, StateError};

/// Arguments of `vessel rm` (and `vessel container rm`).
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill a running container first (SIGKILL) instead of refusing.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// The containers' ids, id prefixes or names.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Removes each container; prints what it was asked for as each one goes.
pub fn rm(root: &Root, args: RmArgs) -> Result<i32> {
    let dir = StateDir::open_in(root)?;
    Ok(each(&args.containers, |container| {
        match lifecycle::remove(&dir, container, args.force) {
            Ok(_) => {}
            // A record that does not parse: it goes, with the layers the store knows.
            Err(LifecycleError::State(StateError::NoSuchContainer(_)))
                if dir.remove_unreadable(container)? =>
            {
                match remove_from_store(root, container) {
                    Ok(()) | Err(Error::State(StateError::NoSuchContainer(_))) => {}
                    Err(e) => return Err(e),
                }
            }
            // Layers kept without a record (made through the library, or by an older
            // vessel): the image store still knows them.
            Err(LifecycleError::State(StateError::NoSuchContainer(_))) => {
                remove_from_store(root, container)?
            }
            Err(e) => return Err(e.into()),
        }
        super::output::out(&format!("{container}\n"));
        Ok(())
    }))
}

/// Does `action` for every container asked for, as docker does: one that fails (a typo,
/// a running one without `-f`) is reported on stderr, and the others are still done.
/// Returns the exit code: 0 if all went well, else the first failure's.
pub(super) fn each(containers: &[String], mut action: impl FnMut(&str) -> Result<()>) -> i32 {
    let mut code = 0;
    for container in containers {
        if let Err(error) = action(container) {
            errln!("vessel: {}", super::error_chain(&error));
            if code == 0 {
                code = error.exit_code();
            }
        }
    }
    code
}

/// Removes the kept layers `query` names (by id or unique id prefix).
fn remove_from_store(root: &Root, query: &str) -> Result<()> {
    let store = Store::open_in(root)?;
    let id = state::resolve(store.containers()?, query)?.id;
    store.remove_container(&id)?;
    Ok(())
}
