//! `vessel run`: start a container in the foreground and pass its exit code on.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use clap::Args;

use super::cap_args::CapabilityArgs;
use super::cgroup_args::CgroupArgs;
use super::device_args::DeviceArgs;
use super::fs_args::FilesystemArgs;
use super::image_root::ImageArgs;
use super::net_args::{self, NetworkArgs};
use super::ns_args::NamespaceArgs;
use super::output::errln;
use super::security_args::ProcessSecurityArgs;
use super::{bundle, detach, signals};
use crate::Container;
use crate::error::Result;
use crate::lifecycle::admit::{self, Admission};
use crate::namespaces::Namespace;
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

/// What the library records of this run: the arguments as plain values.
fn admission<'a>(
    vessel_root: &'a Root,
    args: &'a RunArgs,
    id: &'a ContainerId,
    rootfs: Option<&'a Path>,
) -> Admission<'a> {
    Admission {
        root: vessel_root,
        id,
        name: args.name.as_deref(),
        detach: args.detach,
        auto_remove: args.layers.rm,
        image: args.layers.image.as_deref(),
        rootfs,
        entrypoint: args.layers.entrypoint.as_deref(),
        command: &args.command,
        volumes: &args.layers.volumes,
        host_pids: !args.namespaces.namespaces().contains(Namespace::Pid),
        privileged: args.capabilities.privileged,
    }
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
    let id = ContainerId::random();
    // Bad limits and capability names fail here, before any layer or cgroup exists.
    let limited = args.limits.cgroup(id.as_str())?;
    let cgroup = admit::cgroup(&admission(vessel_root, &args, &id, None), limited)?;
    args.capabilities.check()?;
    args.devices.nodes()?;
    args.filesystem.check()?;
    args.security.check()?;
    // The init layer needs the hostname before the spec exists.
    let hostname = args.hostname.clone().unwrap_or_else(|| id.to_string());
    let rootfs = args.namespaces.rootfs_for(
        vessel_root,
        args.rootfs.clone(),
        args.layers.image.as_deref(),
    )?;
    let admitted = admission(vessel_root, &args, &id, rootfs.as_deref());
    let mut tracked = admit::track(&admitted, cgroup.as_ref())?;
    let (mut root, argv) =
        args.layers
            .prepare(vessel_root, rootfs, &id, &hostname, &args.command)?;
    // The address is leased (and /etc/hosts written) before the clone; the veth pair is
    // made by the parent while the child waits (see Container::spawn_supervised).
    let mut names = vec![hostname.clone()];
    names.extend(args.name.clone().filter(|n| *n != hostname));
    let network = net_args::prepare(
        vessel_root,
        &args.namespaces.network_mode(),
        &args.network,
        args.namespaces.namespaces().contains(Namespace::User),
        id.as_str(),
        names,
        root.init_layer().as_deref(),
    )?;
    let workdir = args
        .workdir
        .clone()
        .unwrap_or_else(|| PathBuf::from(root.image_workdir().unwrap_or("/")));
    let mut spec = args
        .namespaces
        .apply(ContainerSpec::new(root.rootfs.clone(), argv))
        .cwd(workdir)
        .rootfs_mode(if args.chroot {
            RootfsMode::Chroot
        } else {
            RootfsMode::PivotRoot
        });
    if let (true, Ok(term)) = (
        args.tty || std::io::stdin().is_terminal(),
        std::env::var("TERM"),
    ) {
        spec = spec.env(format!("TERM={term}"));
    }
    spec = root.apply(spec, &args.layers.volumes)?;
    for entry in args.env {
        spec = spec.env(entry);
    }
    // The hostname defaults to the id, when the container has a UTS namespace to hold it.
    match args.hostname {
        Some(name) => spec = spec.hostname(name),
        None if spec.namespaces.contains(Namespace::Uts) => spec = spec.hostname(id.to_string()),
        None => {}
    }
    spec.cgroup = cgroup;
    spec = args.capabilities.apply(spec)?;
    spec = args.devices.apply(spec)?;
    spec = args.security.apply(spec, args.capabilities.privileged)?;
    // The image's USER, unless --user says otherwise (--group-add still applies).
    if let (None, Some(user)) = (&args.security.user, root.image_user()) {
        spec.process_security.user = Some(crate::security::UserRequest {
            user: user.to_owned(),
            group_add: args.security.group_add.clone(),
        });
    }
    spec = args.filesystem.apply(spec)?;
    spec.network = network.lease.as_ref().map(|l| l.attachment().clone());
    if let Some(path) = network.join.clone() {
        spec.join_namespaces.push((Namespace::Network, path));
    }
    if args.init && !spec.argv.is_empty() {
        let init_layer = root.init_layer();
        spec = crate::init::prepare(spec, vessel_root.dir(), init_layer.as_deref())?;
    }
    if args.detach {
        // The shim outlives this process: it removes the layers for --rm.
        let remove_layers = root.cleanup_in_shim();
        // The shim gives the address back when the container exits; this process
        // returns while it runs, so its lease is kept once the start succeeded (a failed
        // start drops it here, which gives the address back).
        let released = network
            .lease
            .as_ref()
            .map(|l| l.attachment().container.clone());
        let after_exit = move || {
            if let Some(id) = released
                && let Err(error) = crate::network::release(&id)
            {
                errln!("vessel: {}", super::error_chain(&error));
            }
            remove_layers();
        };
        let tracked = tracked.expect("a detached container is always recorded");
        let code = detach::run_detached(spec, tracked, after_exit)?;
        network.lease.map(crate::network::Lease::keep);
        root.started();
        return Ok(code);
    }
    // Block the signals we forward before the child exists, so none is lost in between;
    // the child unblocks them before exec.
    let forwarder = signals::Forwarder::install()?;
    let terminal = args.tty.then(CallerTerminal::prepare).transpose()?;
    if let Some(terminal) = &terminal {
        spec.terminal = Some(terminal.request());
    }
    // The pid is recorded before the child may exec (see `Container::spawn_supervised`).
    let mut running = Container::spawn_supervised(
        &spec.trace_start(args.trace),
        crate::process::stdio::Stdio::default(),
        |pid| {
            tracked
                .as_mut()
                .map_or(Ok(()), |tracked| tracked.cloned(pid))
        },
    )?;
    if let Some(tracked) = &mut tracked {
        tracked.started(&running)?;
    }
    root.started();
    if let Some(trace) = running.start_trace() {
        super::output::err(&super::trace::table(trace));
    }
    match terminal {
        Some(terminal) => terminal.relay(&running, &forwarder, args.interactive)?,
        None => forwarder.forward_until_exit(&running)?,
    }
    let status = running.wait()?;
    // The container's namespace is gone with it: its address, veth and rules go too.
    drop(network);
    // The exit code is what the caller waits for: a record that cannot be updated
    // (removed meanwhile by `vessel rm -f`) is worth a warning, not a different code.
    if let Some(Err(error)) = tracked.map(|t| t.exited(Some(status), running.oom_killed())) {
        errln!("vessel: {}", super::error_chain(&error));
    }
    args.limits.report(&running, status)
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
