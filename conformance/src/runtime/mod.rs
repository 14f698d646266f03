//! The runtime under test, behind one small interface: start the probe with a
//! [`Request`], talk to it through a [`Session`], and [`Session::finish`].
//!
//! Two adapters: vessel through its library ([`vessel`](self::vessel)), and any OCI
//! runtime through a bundle and `<runtime> run` ([`oci`]).

mod exec;
pub mod oci;
pub mod oci_config;
pub mod oci_lifecycle;
mod session;
pub mod vessel;
pub mod vessel_cli;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use ::vessel::rootfs::volume::Volume;
pub use exec::Exec;
pub use session::{Finished, Session};

use crate::world::World;

/// The controllers whose directories a session records.
const CONTROLLERS: [&str; 5] = ["memory", "cpu", "cpuacct", "pids", "cpuset"];

/// The uid/gid range a user-namespace check maps container root onto.
pub const USERNS_FIRST_HOST_ID: u32 = 100_000;
/// How many ids it maps.
pub const USERNS_COUNT: u32 = 65_536;

/// Cgroup limits for a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// CPU quota and period in microseconds.
    pub cpu: Option<(u64, u64)>,
    /// Maximum number of processes.
    pub pids: Option<u64>,
}

/// What to start: the probe with these actions, in a container shaped like this.
#[derive(Debug, Clone)]
pub struct Request {
    /// The probe's arguments (its actions).
    pub args: Vec<String>,
    /// A command to run instead of the probe (e.g. `/bin/sh -c …`).
    pub command: Option<Vec<String>>,
    /// Hostname to set.
    pub hostname: Option<String>,
    /// Cgroup limits (every container gets a cgroup, limited or not).
    pub limits: Limits,
    /// Bind-mounted host paths.
    pub volumes: Vec<Volume>,
    /// Run in a user namespace mapping 0..65536 onto 100000.. .
    pub userns: bool,
    /// A rootfs other than the shared test rootfs (for containers that write to `/`).
    pub rootfs: Option<PathBuf>,
    /// Capabilities kept beyond the default set (docker's 14, which vessel keeps and the
    /// bundle names), for checks whose probe must mount or set the hostname.
    pub extra_capabilities: ::vessel::security::capabilities::CapSet,
    /// A pty slave to be the probe's stdin *and* the controlling terminal of the session
    /// the runtime is started in, as a shell's terminal is (the security checks' TIOCSTI).
    pub controlling_tty: Option<Arc<OwnedFd>>,
}

impl Request {
    /// The probe with `args`, in a default container.
    pub fn probe<S: AsRef<str>>(args: &[S]) -> Request {
        Request {
            args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
            command: None,
            hostname: None,
            limits: Limits::default(),
            volumes: Vec::new(),
            userns: false,
            rootfs: None,
            extra_capabilities: ::vessel::security::capabilities::CapSet::EMPTY,
            controlling_tty: None,
        }
    }

    /// The same request, keeping `CAP_name` too (`SYS_ADMIN` to mount or set the hostname).
    #[must_use]
    pub fn with_capability(mut self, name: &str) -> Request {
        let cap = ::vessel::security::capabilities::parse(name).expect("a capability name");
        self.extra_capabilities = self.extra_capabilities.with(cap);
        self
    }

    /// The capability set the container's process should have: the default plus extras.
    pub fn capabilities(&self) -> ::vessel::security::capabilities::CapSet {
        ::vessel::security::capabilities::CapSet(
            ::vessel::security::capabilities::DOCKER_DEFAULT.0 | self.extra_capabilities.0,
        )
    }

    /// `script` run by the rootfs's `/bin/sh` instead of the probe.
    pub fn shell(script: &str) -> Request {
        let mut request = Request::probe::<&str>(&[]);
        request.command = Some(vec!["/bin/sh".into(), "-c".into(), script.into()]);
        request
    }

    /// The argv inside the container: the probe with its actions, or the command.
    pub fn argv(&self) -> Vec<String> {
        if let Some(command) = &self.command {
            return command.clone();
        }
        std::iter::once(crate::world::PROBE_IN_ROOTFS.to_owned())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// The rootfs to run on.
    pub fn rootfs_in(&self, world: &World) -> PathBuf {
        self.rootfs.clone().unwrap_or_else(|| world.rootfs.clone())
    }
}

/// A runtime the suite can drive.
#[derive(Debug)]
pub enum Runtime {
    /// vessel, through its library.
    Vessel,
    /// An OCI runtime binary (runc, crun, youki).
    Oci(oci::OciRuntime),
}

impl Runtime {
    /// The runtime's name as printed.
    pub fn name(&self) -> &str {
        match self {
            Runtime::Vessel => "vessel",
            Runtime::Oci(oci) => &oci.name,
        }
    }

    /// Whether this is vessel.
    pub fn is_vessel(&self) -> bool {
        matches!(self, Runtime::Vessel)
    }

    /// Starts the probe as `request` asks.
    pub fn start(&self, world: &World, request: &Request) -> Result<Session, String> {
        match self {
            // The library cannot start a container from another session: the CLI can.
            Runtime::Vessel if request.controlling_tty.is_some() => {
                vessel_cli::start(world, request)
            }
            Runtime::Vessel => vessel::start(world, request),
            Runtime::Oci(oci) => oci.start(world, request),
        }
    }

    /// Starts the probe and runs it to the end: its JSON lines and how it ended.
    pub fn run(&self, world: &World, request: &Request) -> Result<Finished, String> {
        self.start(world, request)?.finish()
    }
}
