//! vessel-conformance: isolation invariants checked against a real kernel, for vessel and
//! for any OCI runtime (runc, crun, youki).
//!
//! Each check ([`check::Check`]) states one invariant in plain English and tests it with
//! the **probe** (`vessel-probe`, a static binary the suite copies into the container's
//! rootfs), which reports what the container sees as JSON, while the suite looks at the
//! same container from the host. The checks live in [`checks`], one file per area.
//! The runtime under test is driven through an adapter ([`runtime`]). Around every check
//! the suite compares what could leak (mounts, cgroups, netns, runtime state).

pub mod check;
pub mod checks;
pub mod cli;
pub mod console_socket;
pub mod docker_defaults;
pub mod features;
pub mod host;
pub mod keyring;
pub mod leaks;
pub mod output;
pub mod pty;
pub mod runner;
pub mod runtime;
pub mod static_build;
pub mod without_ptrace;
pub mod world;

/// The command line's entry point: parses `args` (without the program name), runs, and
/// returns the exit code.
pub fn main_with(args: &[String]) -> i32 {
    match cli::parse(args) {
        Ok(options) => cli::run(&options),
        Err(message) if message == cli::USAGE => {
            println!("{message}");
            0
        }
        Err(message) => {
            eprintln!("{message}");
            2
        }
    }
}
