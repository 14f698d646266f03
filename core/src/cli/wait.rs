//! `vessel wait`: block until a container exits, then print its exit code.

use clap::Args;

use crate::error::{Error, Result};
use crate::lifecycle;
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The containers' ids, id prefixes or names.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Prints each exit code (128 + n for signal n) in turn, as `docker wait` does.
pub fn wait(root: &Root, args: WaitArgs) -> Result<i32> {
    let dir = StateDir::open_in(root)?;
    Ok(super::rm::each(&args.containers, |container| {
        wait_one(&dir, container)
    }))
}

fn wait_one(dir: &StateDir, container: &str) -> Result<()> {
    let id = dir.find(container)?.id;
    match lifecycle::wait(dir, &id)? {
        Some(record) => match record.exit_code {
            Some(code) => {
                super::output::out(&format!("{code}\n"));
                Ok(())
            }
            None => Err(Error::ExitUnknown {
                id,
                status: record.observed_status(),
            }),
        },
        None => Err(Error::ExitUnknown {
            id,
            status: "was removed as it exited (--rm, or `vessel rm`)".to_owned(),
        }),
    }
}
