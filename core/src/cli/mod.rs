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
mod deferred;
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
use deferred::Deferred;

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
    Run(Box<Deferred<run::RunArgs>>),
    /// Run a command inside a running container (joins its namespaces, cgroup and root).
    Exec(Deferred<exec::ExecArgs>),
    /// List containers (running ones; all with -a), checked against the kernel.
    Ps(Deferred<ps::PsArgs>),
    /// Print a detached container's output (-f: follow it until the container exits).
    Logs(Deferred<logs::LogsArgs>),
    /// Stop containers: SIGTERM, then SIGKILL after the timeout; says which ended each.
    Stop(Deferred<stop::StopArgs>),
    /// Send a signal to a running container's first process (default SIGKILL).
    Kill(Deferred<kill::KillArgs>),
    /// Remove containers: cgroups, layers, log and record (-f: kill a running one first).
    Rm(Deferred<rm::RmArgs>),
    /// Print a container's record as JSON.
    Inspect(Deferred<inspect::InspectArgs>),
    /// Wait until a container exits and print its exit code.
    Wait(Deferred<wait::WaitArgs>),
    /// Print where the default rootfs is, building it first if it is missing.
    Rootfs(Deferred<rootfs::RootfsArgs>),
    /// Manage images: import, ls, inspect, rm, prune.
    Image(Deferred<image::ImageArgs>),
    /// List images.
    Images,
    /// Make an image from a container's changes (its writable layer).
    Commit(Deferred<commit::CommitArgs>),
    /// Build an image from a Dockerfile: one layer per RUN, COPY or ADD, with a cache.
    Build(Deferred<build::BuildArgs>),
    /// Manage kept container layers: ls, rm.
    Container(Deferred<container::ContainerArgs>),
    /// OCI: set up a container from a bundle; its init waits for `start`.
    Create(Deferred<oci::create::CreateArgs>),
    /// OCI: let a created container run its command.
    Start(Deferred<oci::start::StartArgs>),
    /// OCI: print a container's state (runtime-spec JSON).
    State(Deferred<oci::state::StateArgs>),
    /// OCI: remove a stopped or created container (-f: kill a running one first).
    Delete(Deferred<oci::delete::DeleteArgs>),
    /// OCI: list the containers made by `create`.
    List(Deferred<oci::list::ListArgs>),
    /// OCI: freeze a running container.
    Pause(Deferred<oci::pause::PauseArgs>),
    /// OCI: thaw a paused container.
    Resume(Deferred<oci::pause::PauseArgs>),
    /// OCI: change a container's limits (--resources FILE or - for stdin).
    Update(Deferred<oci::update::UpdateArgs>),
    /// OCI: print the runtime-spec features document.
    Features,
    /// OCI: write a default config.json.
    Spec(Deferred<oci::spec::SpecArgs>),
    /// Manage networks: create, ls, inspect, rm.
    Network(Deferred<network::NetworkArgs>),
    /// Load images from a docker-archive or an OCI image layout (directory or tar).
    Load(Deferred<load::LoadArgs>),
    /// Save images as an OCI image layout tar (podman, skopeo and docker load it).
    Save(Deferred<save::SaveArgs>),
    /// Pull an image from a registry.
    Pull(Deferred<pull::PullArgs>),
    /// Push an image to a registry.
    Push(Deferred<push::PushArgs>),
    /// Give an image another name.
    Tag(Deferred<tag::TagArgs>),
    /// Show an image's layers: instruction, size and digest, top first.
    History(Deferred<history::HistoryArgs>),
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
        Command::Run(args) => run::run(root, args.0),
        Command::Rootfs(args) => rootfs::rootfs(root, args.0),
        Command::Exec(args) => exec::exec(root, args.0),
        Command::Ps(args) => ps::ps(root, args.0),
        Command::Logs(args) => logs::logs(root, args.0),
        Command::Stop(args) => stop::stop(root, args.0),
        Command::Kill(args) => kill::kill(root, args.0),
        Command::Rm(args) => rm::rm(root, args.0),
        Command::Inspect(args) => inspect::inspect(root, args.0),
        Command::Wait(args) => wait::wait(root, args.0),
        Command::Image(args) => image::image(root, args.0),
        Command::Images => crate::image::Store::open_in(root)
            .map_err(Into::into)
            .and_then(|store| image::images(&store)),
        Command::Commit(args) => commit::commit(root, args.0),
        Command::Build(args) => build::build(root, args.0),
        Command::Container(args) => container::container(root, args.0),
        Command::Create(args) => oci::create::create(root, args.0),
        Command::Start(args) => oci::start::start(root, args.0),
        Command::State(args) => oci::state::state(root, args.0),
        Command::Delete(args) => oci::delete::delete(root, args.0),
        Command::List(args) => oci::list::list(root, args.0),
        Command::Pause(args) => oci::pause::pause(root, args.0),
        Command::Resume(args) => oci::pause::resume(root, args.0),
        Command::Update(args) => oci::update::update(root, args.0),
        Command::Features => oci::features::features(),
        Command::Spec(args) => oci::spec::spec(args.0),
        Command::Network(args) => network::network(args.0),
        Command::Load(args) => load::load(root, args.0),
        Command::Save(args) => save::save(root, args.0),
        Command::Pull(args) => pull::pull(root, args.0),
        Command::Push(args) => push::push(root, args.0),
        Command::Tag(args) => tag::tag(root, args.0),
        Command::History(args) => history::history(root, args.0),
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
        assert_eq!(args.0.command, ["sh", "-c", "x"]);
        assert_eq!(args.0.hostname.as_deref(), Some("box"));
    }

    #[test]
    fn only_the_given_subcommand_declares_its_arguments() {
        let mut cli = Cli::command();
        let matches = cli
            .try_get_matches_from_mut(["vessel", "state", "box"])
            .unwrap();
        assert_eq!(matches.subcommand_name(), Some("state"));
        let declared = |name: &str| {
            let sub = cli.find_subcommand(name).unwrap();
            let own = |a: &&clap::Arg| !a.is_global_set() && a.get_id() != "help";
            sub.get_arguments().filter(own).count()
        };
        assert_eq!(declared("state"), 1, "state's one argument, the id");
        assert_eq!(
            declared("run"),
            0,
            "run was not given: nothing of it is built"
        );
    }

    #[test]
    fn global_options_still_reach_a_deferred_subcommand() {
        for argv in [
            ["vessel", "--root", "/r", "state", "box"],
            ["vessel", "state", "--root", "/r", "box"],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            assert_eq!(
                cli.root.as_deref(),
                Some(std::path::Path::new("/r")),
                "{argv:?}"
            );
            let Command::State(args) = cli.command else {
                panic!("expected state");
            };
            assert_eq!(args.0.id, "box");
        }
    }

    #[test]
    fn an_error_chain_reads_left_to_right() {
        let error = crate::Error::from(crate::process::error::ProcessError::Step {
            step: "pivot_root(\"/r\")".into(),
            source: std::io::Error::from_raw_os_error(libc::EINVAL),
        });
        assert_eq!(
            error_chain(&error),
            "pivot_root(\"/r\"): Invalid argument (os error 22)"
        );
    }
}
