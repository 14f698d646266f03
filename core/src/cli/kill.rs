//! `vessel kill`: signal a running container's first process.

use clap::Args;
use nix::sys::signal::Signal;

use crate::error::Result;
use crate::lifecycle;
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal, by name (`TERM`, `SIGTERM`) or number [default: KILL; TERM for a
    /// container made by `vessel create`, as runc].
    #[arg(short = 's', long, value_name = "SIGNAL", value_parser = parse_signal)]
    pub signal: Option<Signal>,
    /// For a container made by `vessel create`: signal every process in its cgroup.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// The containers' ids, id prefixes or names; for a container made by `vessel
    /// create`, runc's form: `kill ID [SIGNAL]`.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

fn parse_signal(text: &str) -> std::result::Result<Signal, String> {
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| format!("{number}: no such signal number"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().map_err(|_| {
        format!("{text:?}: no such signal (use a name like TERM or KILL, or a number)")
    })
}

// ANCHOR: kill
/// Sends the signal through a pidfd opened for the recorded pid and checked against its
/// start time: once the pidfd is open, the pid cannot be recycled under us.
pub fn kill(root: &Root, args: KillArgs) -> Result<i32> {
    if let [id, rest @ ..] = args.containers.as_slice()
        && rest.len() <= 1
        && super::oci::is_oci_container(root, id)
    {
        let signal = match (rest.first(), args.signal) {
            (Some(given), _) => parse_signal(given).map_err(crate::error::Error::Oci)?,
            (None, Some(signal)) => signal,
            (None, None) => Signal::SIGTERM,
        };
        return super::oci::kill::kill(root, id, signal as libc::c_int, args.all);
    }
    let signal = args.signal.unwrap_or(Signal::SIGKILL);
    let dir = StateDir::open_in(root)?;
    Ok(super::rm::each(&args.containers, |container| {
        let record = lifecycle::kill(&dir, container, signal as libc::c_int)?;
        super::output::out(&format!("{}\n", record.id));
        Ok(())
    }))
}
// ANCHOR_END: kill
