//! `vessel run`: the flags turned into the library's request (`lifecycle::run`, which
//! records, places, prepares and starts the container), and the caller's terminal: the
//! container's id printed, its terminal relayed, signals passed on, its exit code
//! passed on.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::PathBuf;

use clap::Args;

use super::cap_args::CapabilityArgs;
use super::cgroup_args::CgroupArgs;
use super::device_args::DeviceArgs;
use super::fs_args::FilesystemArgs;
use super::image_root::ImageArgs;
use super::net_args::NetworkArgs;
use super::ns_args::NamespaceArgs;
use super::output::errln;
use super::security_args::ProcessSecurityArgs;
use super::{bundle, signals};
use crate::error::Result;
use crate::lifecycle::run::{self, RunRequest};
use crate::process::container::Running;
use crate::process::spec::{ContainerSpec, RootfsMode};
use crate::state::ContainerId;
use crate::state::Root;
use crate::tty::{self, RawMode};

/// Arguments of `vessel run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Your own directory as the container's root filesystem, used in place: what the
    /// container writes lands in DIR itself, with no writable layer and nothing to
    /// commit (docker has no such option) [default: the image's layers under a writable
    /// layer of the container's own].
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Hostname inside the container [default: the container id].
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Enter the rootfs with chroot instead of pivot_root (unsafe: for the lesson only).
    #[arg(long)]
    pub chroot: bool,
    /// Set an environment variable (repeatable).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the container [default: the image's WORKDIR, or /].
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Run a tiny init as PID 1 (vessel-init): it forwards signals to the command and
    /// reaps orphaned zombies, and exits as the command did.
    #[arg(long)]
    pub init: bool,
    /// Run in the background: print the container's id and return at once. A small
    /// supervisor process (the shim) stays the container's parent, logs its output
    /// (`vessel logs`) and records its exit.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Give the container a terminal of its own: a pty from the container's devpts
    /// (`tty` inside says /dev/pts/0) as its stdin, stdout, stderr and controlling
    /// terminal, relayed to this terminal; its size follows this one. Without -i the
    /// container reads nothing (as with docker) and Ctrl-C reaches vessel, which passes
    /// SIGINT on. Not with -d.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Keep stdin open for the container. Without -t the container always shares
    /// vessel's stdin, so -i changes nothing there; with -t, -i puts this terminal in
    /// raw mode and relays every key to the container's (the usual `vessel run -it -- sh`).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// A name to find the container by, instead of its id (unique among containers).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub namespaces: NamespaceArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub capabilities: CapabilityArgs,
    #[command(flatten)]
    pub security: ProcessSecurityArgs,
    #[command(flatten)]
    pub filesystem: FilesystemArgs,
    #[command(flatten)]
    pub limits: Box<CgroupArgs>,
    #[command(flatten)]
    pub devices: DeviceArgs,
    #[command(flatten)]
    pub layers: Box<ImageArgs>,
    /// Print where the start-up time went, stage by stage, on stderr once the command
    /// has started (the runtime's own trace: clone3, each mount, pivot_root, exec, …).
    #[arg(long, conflicts_with = "detach")]
    pub trace: bool,
    /// Run the OCI bundle in DIR (its config.json says what to run; give the container
    /// id instead of a command), as `runc run --bundle DIR ID` does.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["rootfs", "chroot", "env", "hostname", "detach", "name", "init", "entrypoint", "tty", "cap_add", "cap_drop", "privileged", "devices", "security_opt", "ulimit", "sysctl", "user", "group_add", "read_only", "tmpfs"]
    )]
    pub bundle: Option<PathBuf>,
    /// The command to run and its arguments (after `--`), replacing the image's CMD;
    /// with --bundle, the container id.
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

impl RunArgs {
    /// What the library is asked for: every flag parsed, group by group (limits first),
    /// and checked, before anything is created (the limits are checked against this
    /// machine as the library places the cgroup, first thing in `lifecycle::run::prepare`).
    fn request(&self, vessel_root: &Root) -> Result<RunRequest> {
        let id = ContainerId::random();
        let template = ContainerSpec::new(PathBuf::new(), Vec::<String>::new());
        let mut process = self.limits.apply(template, id.as_str())?;
        process = (self.namespaces.apply(process))
            .rootfs_mode(if self.chroot {
                RootfsMode::Chroot
            } else {
                RootfsMode::PivotRoot
            })
            .trace_start(self.trace);
        if let (true, Ok(term)) = (
            self.tty || std::io::stdin().is_terminal(),
            std::env::var("TERM"),
        ) {
            process = process.env(format!("TERM={term}"));
        }
        for entry in &self.env {
            process = process.env(entry.clone());
        }
        process = self.capabilities.apply(process)?;
        process = self.devices.apply(process)?;
        process = self.filesystem.apply(process)?;
        process = self.security.apply(process, self.capabilities.privileged)?;
        let layers = &self.layers;
        Ok(RunRequest {
            root: vessel_root.clone(),
            id,
            name: self.name.clone(),
            detach: self.detach,
            auto_remove: layers.rm,
            image: layers.image.clone(),
            rootfs: self.rootfs.clone(),
            entrypoint: layers.entrypoint.clone(),
            command: self.command.clone(),
            volumes: layers.volumes.clone(),
            hostname: self.hostname.clone(),
            workdir: self.workdir.clone(),
            init: self.init,
            user_named: self.security.user.is_some(),
            network: (self.network.clone()).request(self.namespaces.network_mode()),
            process,
        })
    }
}

/// The library's warnings, on stderr.
fn warn(text: &str) {
    errln!("vessel: {text}");
}

/// Runs the container and returns its exit code (128 + n if signal n killed it).
pub fn run(vessel_root: &Root, args: RunArgs) -> Result<i32> {
    if let Some(bundle) = &args.bundle {
        let [id] = args.command.as_slice() else {
            return Err(crate::Error::BundleId);
        };
        return bundle::run_bundle(bundle, id, args.trace);
    }
    if args.detach && args.tty {
        return Err(crate::Error::DetachedTerminal);
    }
    if args.tty && args.interactive && !std::io::stdin().is_terminal() {
        return Err(crate::Error::NoTerminal);
    }
    let prepared = run::prepare(args.request(vessel_root)?, warn)?;
    if args.detach {
        let id = prepared.detach()?;
        // The container runs whatever becomes of our stdout: a reader that went away
        // (`vessel run -d … | true`) must not make this process panic half-way.
        super::output::out(&format!("{id}\n"));
        return Ok(0);
    }
    // Block the signals we forward before the child exists, so none is lost in between;
    // the child unblocks them before exec.
    let forwarder = signals::Forwarder::install()?;
    let terminal = args.tty.then(CallerTerminal::prepare).transpose()?;
    let mut started = prepared.start(terminal.as_ref().map(CallerTerminal::request))?;
    let running = started.running();
    if let Some(trace) = running.start_trace() {
        super::output::err(&super::trace::table(trace));
    }
    match terminal {
        Some(terminal) => terminal.relay(running, &forwarder, args.interactive)?,
        None => forwarder.forward_until_exit(running)?,
    }
    let status = started.wait()?;
    args.limits.report(started.running(), status)
}

// ANCHOR: run_with_terminal
/// `run -t`: the caller's side of the container's terminal.
struct CallerTerminal {
    /// The caller's terminal: stdin if it is one, else stdout (`run -t > log`).
    caller: std::os::fd::OwnedFd,
    socket: tty::ConsoleSocket,
    resize: tty::WindowWatch,
}

impl CallerTerminal {
    /// Before the spawn: the socket the master comes back through, and `SIGWINCH`
    /// blocked, so that a resize during start-up is not lost.
    fn prepare() -> Result<CallerTerminal> {
        let caller = if std::io::stdin().is_terminal() {
            std::io::stdin().as_fd().try_clone_to_owned()
        } else {
            std::io::stdout().as_fd().try_clone_to_owned()
        }
        .map_err(tty::TtyError::io(tty::TtyStep::DupCaller))?;
        let resize = tty::WindowWatch::install(caller.as_fd())?;
        Ok(CallerTerminal {
            caller,
            socket: tty::ConsoleSocket::new()?,
            resize,
        })
    }

    /// What the child plans: where to send the master, and the caller's size
    /// (0×0, the kernel's default, when vessel has no terminal at all).
    fn request(&self) -> tty::TerminalRequest {
        self.socket
            .request(tty::window_size(self.caller.as_fd()).unwrap_or((0, 0)))
    }

    /// After the spawn: takes the master, stops the caller's terminal from post-processing
    /// what it shows, puts it in raw mode for `-i` (both restored when their guards drop,
    /// on every path out of here) and relays until the container's first process exits.
    fn relay(self, running: &Running, forwarder: &signals::Forwarder, stdin: bool) -> Result<()> {
        let master = self.socket.receive_master()?;
        // Declared first, so it drops last and restores the settings from before either.
        let _as_is = std::io::stdout()
            .is_terminal()
            .then(|| OutputAsIs::enter(std::io::stdout().as_fd()))
            .transpose()?;
        let _raw = stdin
            .then(|| RawMode::enter(self.caller.as_fd()))
            .transpose()?;
        tty::relay_with(
            &master,
            running.pidfd(),
            forwarder.fd(),
            || forwarder.forward_pending(running),
            tty::Relay {
                without_stdin: !stdin,
                resize: Some(&self.resize),
            },
        )?;
        Ok(())
    }
}
// ANCHOR_END: run_with_terminal

// ANCHOR: output_as_is
/// The caller's terminal shows bytes as they come (`OPOST` off) while the container's
/// output passes through it. The container's pty already turned each `\n` into `\r\n`
/// (its own `ONLCR`); a cooked caller terminal would add another `\r`, so `run -t`
/// without `-i` printed `\r\r\n`. Only output processing changes: the caller's Ctrl-C
/// still makes SIGINT (`ISIG`), which vessel passes on, because without `-i` no key is
/// relayed. (docker leaves the terminal cooked under `-t` alone.)
struct OutputAsIs {
    _modes: tty::TerminalModes,
}

impl OutputAsIs {
    fn enter(fd: std::os::fd::BorrowedFd<'_>) -> Result<OutputAsIs> {
        let steps = (
            tty::TtyStep::GetStdoutModes,
            tty::TtyStep::SetStdoutOutputAsIs,
        );
        let _modes = tty::TerminalModes::change(fd, steps, |as_is| as_is.c_oflag &= !libc::OPOST)?;
        Ok(OutputAsIs { _modes })
    }
}
// ANCHOR_END: output_as_is
