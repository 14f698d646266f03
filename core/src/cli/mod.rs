//! The `vessel` command line. Each subcommand lives in its own file; this one parses the
//! arguments and turns errors into messages and exit codes.

// Every print goes through `output` (a closed stdout must not panic): no `println!`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod build;
mod bundle;
mod cap_args;
pub mod cgroup_args;
mod commit;
mod container;
mod detach;
pub mod device_args;
mod exec;
mod fs_args;
mod history;
mod image;
mod image_root;
mod inspect;
mod kill;
mod load;
mod logs;
pub mod net_args;
mod network;
pub mod ns_args;
mod oci;
mod output;
mod ps;
mod pull;
mod push;
mod rm;
mod rootfs;
mod run;
mod save;
pub mod security_args;
mod signals;
mod stop;
mod tag;
mod trace;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::state::Root;

/// vessel: run a command in its own namespaces, on its own root filesystem.
#[derive(Debug, Parser)]
#[command(name = "vessel", version, about, long_about = None)]
pub struct Cli {
    /// Where vessel keeps its rootfs, images, layers and containers
    /// [default: $VESSEL_ROOT, or /var/lib/vessel].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    /// Also write errors to this file (as conmon and containerd's shim ask a runtime).
    #[arg(long, global = true, value_name = "FILE")]
    log: Option<std::path::PathBuf>,
    /// The format of --log: text or json (one `{"level","msg","time"}` object a line).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: oci::log::LogFormat,
    /// Log each command line to --log too.
    #[arg(long, global = true)]
    debug: bool,
    /// Manage cgroups through systemd: not supported (refused, never ignored).
    #[arg(long, global = true)]
    systemd_cgroup: bool,
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
    /// Manage images: import, ls, inspect, rm, prune.
    Image(image::ImageArgs),
    /// List images.
    Images,
    /// Make an image from a container's changes (its writable layer).
    Commit(commit::CommitArgs),
    /// Build an image from a Dockerfile: one layer per RUN, COPY or ADD, with a cache.
    Build(build::BuildArgs),
    /// Manage kept container layers: ls, rm.
    Container(container::ContainerArgs),
    /// OCI: set up a container from a bundle; its init waits for `start`.
    Create(oci::create::CreateArgs),
    /// OCI: let a created container run its command.
    Start(oci::start::StartArgs),
    /// OCI: print a container's state (runtime-spec JSON).
    State(oci::state::StateArgs),
    /// OCI: remove a stopped or created container (-f: kill a running one first).
    Delete(oci::delete::DeleteArgs),
    /// OCI: list the containers made by `create`.
    List(oci::list::ListArgs),
    /// OCI: freeze a running container.
    Pause(oci::pause::PauseArgs),
    /// OCI: thaw a paused container.
    Resume(oci::pause::PauseArgs),
    /// OCI: change a container's limits (--resources FILE or - for stdin).
    Update(oci::update::UpdateArgs),
    /// OCI: print the runtime-spec features document.
    Features,
    /// OCI: write a default config.json.
    Spec(oci::spec::SpecArgs),
    /// Manage networks: create, ls, inspect, rm.
    Network(network::NetworkArgs),
    /// Load images from a docker-archive or an OCI image layout (directory or tar).
    Load(load::LoadArgs),
    /// Save images as an OCI image layout tar (podman, skopeo and docker load it).
    Save(save::SaveArgs),
    /// Pull an image from a registry.
    Pull(pull::PullArgs),
    /// Push an image to a registry.
    Push(push::PushArgs),
    /// Give an image another name.
    Tag(tag::TagArgs),
    /// Show an image's layers: instruction, size and digest, top first.
    History(history::HistoryArgs),
}

/// Parses the process arguments, runs the subcommand and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let log = oci::log::LogOptions {
        file: cli.log.clone(),
        format: cli.log_format,
        debug: cli.debug,
    };
    log.command(&std::env::args().skip(1).collect::<Vec<_>>());
    if cli.systemd_cgroup {
        let message = "--systemd-cgroup: vessel manages cgroups itself (cgroupfs); configure \
                       the client for cgroupfs (podman: cgroup_manager = \"cgroupfs\", \
                       containerd: SystemdCgroup = false)";
        log.error(message);
        output::errln!("vessel: {message}");
        return exit_code(125);
    }
    // Passed to each command that keeps or reads files: nothing reads it back from
    // the environment, so a library caller and the CLI find the same files.
    let root = &Root::new(cli.root.clone());
    let result = match cli.command {
        Command::Run(args) => run::run(root, *args),
        Command::Rootfs(args) => rootfs::rootfs(root, args),
        Command::Exec(args) => exec::exec(root, args),
        Command::Ps(args) => ps::ps(root, args),
        Command::Logs(args) => logs::logs(root, args),
        Command::Stop(args) => stop::stop(root, args),
        Command::Kill(args) => kill::kill(root, args),
        Command::Rm(args) => rm::rm(root, args),
        Command::Inspect(args) => inspect::inspect(root, args),
        Command::Wait(args) => wait::wait(root, args),
        Command::Image(args) => image::image(root, args),
        Command::Images => crate::image::Store::open_in(root)
            .map_err(Into::into)
            .and_then(|store| image::images(&store)),
        Command::Commit(args) => commit::commit(root, args),
        Command::Build(args) => build::build(root, args),
        Command::Container(args) => container::container(root, args),
        Command::Create(args) => oci::create::create(root, args),
        Command::Start(args) => oci::start::start(root, args),
        Command::State(args) => oci::state::state(root, args),
        Command::Delete(args) => oci::delete::delete(root, args),
        Command::List(args) => oci::list::list(root, args),
        Command::Pause(args) => oci::pause::pause(root, args),
        Command::Resume(args) => oci::pause::resume(root, args),
        Command::Update(args) => oci::update::update(root, args),
        Command::Features => oci::features::features(),
        Command::Spec(args) => oci::spec::spec(args),
        Command::Network(args) => network::network(args),
        Command::Load(args) => load::load(root, args),
        Command::Save(args) => save::save(root, args),
        Command::Pull(args) => pull::pull(root, args),
        Command::Push(args) => push::push(root, args),
        Command::Tag(args) => tag::tag(root, args),
        Command::History(args) => history::history(root, args),
    };
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            log.error(&error_chain(&error));
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

/// `error: cause: cause's cause`, as the user should read it (the library's, so that
/// everything that prints an error prints it alike).
pub use crate::error::chain as error_chain;

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
