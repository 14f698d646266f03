//! The `vessel` command line. Each subcommand lives in its own file; this one parses the
//! arguments and turns errors into messages and exit codes.

// Every print goes through `output` (a closed stdout must not panic): no `println!`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod bundle;
mod cap_args;
pub mod cgroup_args;
mod commit;
mod container;
mod container_id;
mod detach;
pub mod device_args;
mod exec;
mod fs_args;
mod image;
mod image_root;
mod inspect;
mod kill;
mod logs;
pub mod ns_args;
mod output;
mod ps;
mod rm;
mod rootfs;
mod run;
pub mod security_args;
mod signals;
mod stop;
mod track;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// vessel: run a command in its own namespaces, on its own root filesystem.
#[derive(Debug, Parser)]
#[command(name = "vessel", version, about, long_about = None)]
pub struct Cli {
    /// Where vessel keeps its rootfs, images, layers and containers (sets VESSEL_ROOT)
    /// [default: $VESSEL_ROOT, or /var/lib/vessel].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in a new container and wait for it; exits with the command's code.
    Run(Box<run::RunArgs>),
    /// Run a command inside a running container (joins its namespaces, cgroup and root).
    Exec(exec::ExecArgs),
    /// List containers (running ones; all with -a), checked against the kernel.
    Ps(ps::PsArgs),
    /// Print a detached container's output (-f: follow it until the container exits).
    Logs(logs::LogsArgs),
    /// Stop containers: SIGTERM, then SIGKILL after the timeout; says which ended each.
    Stop(stop::StopArgs),
    /// Send a signal to a running container's first process (default SIGKILL).
    Kill(kill::KillArgs),
    /// Remove containers: cgroups, layers, log and record (-f: kill a running one first).
    Rm(rm::RmArgs),
    /// Print a container's record as JSON.
    Inspect(inspect::InspectArgs),
    /// Wait until a container exits and print its exit code.
    Wait(wait::WaitArgs),
    /// Print where the default rootfs is, building it first if it is missing.
    Rootfs(rootfs::RootfsArgs),
    /// Manage images: import, ls, inspect, rm.
    Image(image::ImageArgs),
    /// List images.
    Images,
    /// Make an image from a container's changes (its writable layer).
    Commit(commit::CommitArgs),
    /// Manage kept container layers: ls, rm.
    Container(container::ContainerArgs),
}

/// Parses the process arguments, runs the subcommand and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    if let Some(root) = &cli.root {
        // SAFETY: this runs first thing in main, before vessel starts any thread, so no
        // other thread can be reading the environment while it changes.
        unsafe { std::env::set_var("VESSEL_ROOT", root) };
    }
    let result = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Rootfs(args) => rootfs::rootfs(args),
        Command::Exec(args) => exec::exec(args),
        Command::Ps(args) => ps::ps(args),
        Command::Logs(args) => logs::logs(args),
        Command::Stop(args) => stop::stop(args),
        Command::Kill(args) => kill::kill(args),
        Command::Rm(args) => rm::rm(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Wait(args) => wait::wait(args),
        Command::Image(args) => image::image(args),
        Command::Images => crate::image::Store::open_default()
            .map_err(Into::into)
            .and_then(|store| image::images(&store)),
        Command::Commit(args) => commit::commit(args),
        Command::Container(args) => container::container(args),
    };
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            output::errln!("vessel: {}", error_chain(&error));
            error.exit_code()
        }
    };
    exit_code(output::exit_code(code))
}

/// What a command line clap refused exits with: 125, as docker does for its own flag
/// errors (`docker run --foo`, `docker run -m x`), not clap's 2, which a script could not
/// tell from the command's own exit 2. `--help` and `--version` still exit 0. clap's
/// message is kept whole; a closed stdout or stderr only loses it.
fn usage_error(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    exit_code(if error.exit_code() == 0 { 0 } else { 125 })
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(125))
}

/// `error: cause: cause's cause`, as the user should read it.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_the_command_after_the_double_dash() {
        let cli =
            Cli::try_parse_from(["vessel", "run", "--hostname", "box", "--", "sh", "-c", "x"])
                .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("expected run");
        };
        assert_eq!(args.command, ["sh", "-c", "x"]);
        assert_eq!(args.hostname.as_deref(), Some("box"));
    }

    #[test]
    fn an_error_chain_reads_left_to_right() {
        let error = crate::Error::Step {
            step: "pivot_root(\"/r\")".into(),
            source: std::io::Error::from_raw_os_error(libc::EINVAL),
        };
        assert_eq!(
            error_chain(&error),
            "pivot_root(\"/r\"): Invalid argument (os error 22)"
        );
    }
}
