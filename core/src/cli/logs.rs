//! `vessel logs`: what a detached container wrote.

use std::ops::ControlFlow;

use clap::Args;

use crate::error::Result;
use crate::lifecycle::{self, log::Stream};
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until the container exits.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Print only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Put the time each line was read in front of it.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// The container's id, id prefix or name.
    pub container: String,
}

/// Prints the log: the container's stdout lines on stdout, its stderr lines on stderr.
pub fn logs(root: &Root, args: LogsArgs) -> Result<i32> {
    let dir = StateDir::open_in(root)?;
    lifecycle::logs(&dir, &args.container, args.tail, args.follow, |line| {
        let stamp = if args.timestamps {
            format!("{} ", line.time)
        } else {
            String::new()
        };
        let bytes = [stamp.as_bytes(), &line.bytes()].concat();
        match line.stream {
            Stream::Stdout => super::output::out_bytes(&bytes),
            Stream::Stderr => super::output::err_bytes(&bytes),
        }
        // The reader went away (`vessel logs -f web | head`): that ends it, quietly.
        Ok(if super::output::stdout_closed() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    Ok(0)
}
