//! `vessel stop`: SIGTERM, then SIGKILL after the timeout; says which one ended it.

use std::time::Duration;

use clap::Args;

use crate::error::Result;
use crate::lifecycle;
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait after SIGTERM before sending SIGKILL.
    #[arg(
        short = 't',
        long = "time",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub timeout: u64,
    /// The containers' ids, id prefixes or names.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Stops each container in turn; prints `NAME: what ended it` for each.
pub fn stop(root: &Root, args: StopArgs) -> Result<i32> {
    let dir = StateDir::open_in(root)?;
    Ok(super::rm::each(&args.containers, |container| {
        let stopped = lifecycle::stop(&dir, container, Duration::from_secs(args.timeout))?;
        super::output::out(&format!("{container}: {}\n", stopped.ended_by));
        Ok(())
    }))
}
