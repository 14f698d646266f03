//! The namespace options of `vessel run`: an explicit `--ns` list, or docker's
//! per-namespace switches (`--network none`, `--pid host`, …).

use clap::{Args, ValueEnum};

use crate::namespaces::time::TimeOffsets;
use crate::namespaces::user::{self, IdMapping};
use crate::namespaces::{Namespace, Namespaces};
use crate::process::spec::ContainerSpec;

/// Share a namespace with the host, or give the container its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sharing {
    /// The container's own namespace.
    Private,
    /// The host's namespace.
    Host,
}

pub use super::net_args::NetworkMode;

/// `--pid` and `--uts` accept only `host`, as in docker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostOnly {
    /// The host's namespace.
    Host,
}

/// The namespace options; see [`NamespaceArgs::apply`].
#[derive(Debug, Clone, Args)]
pub struct NamespaceArgs {
    /// Exactly the namespaces to create, comma-separated, from mnt, uts, ipc, pid, net,
    /// user, cgroup, time [default: mnt,uts,ipc,pid; user added when not root].
    #[arg(long, value_name = "LIST", value_parser = parse_namespaces)]
    pub ns: Option<Namespaces>,
    /// `bridge` (the default, as root): own network namespace on vessel's default
    /// bridge, with an address and NAT; `NAME`: on the user network NAME (`vessel
    /// network create`); `none`: only `lo`; `host`: the host's; `container:NAME`: that
    /// running container's [default without root, or with --ns: host, or none if the
    /// list has net].
    #[arg(long, value_name = "MODE")]
    pub network: Option<NetworkMode>,
    /// `private`: own IPC namespace; `host`: share the host's System V IPC and queues.
    #[arg(long, value_name = "MODE")]
    pub ipc: Option<Sharing>,
    /// `host`: see and signal the host's processes.
    #[arg(long, value_name = "host")]
    pub pid: Option<HostOnly>,
    /// `host`: use the host's hostname.
    #[arg(long, value_name = "host")]
    pub uts: Option<HostOnly>,
    /// `private`: own cgroup namespace (/proc/self/cgroup shows `/`); `host`: the host's.
    #[arg(long, value_name = "MODE")]
    pub cgroupns: Option<Sharing>,
    /// A user namespace: container root becomes an unprivileged host user. Alone, maps
    /// 0-65535 to 100000-165535 (as root) or root to you (not root); or give one
    /// range as `--userns=INSIDE:OUTSIDE:COUNT`, used for users and groups.
    #[arg(long, value_name = "MAP", num_args = 0..=1, require_equals = true,
          default_missing_value = "auto", value_parser = parse_userns)]
    pub userns: Option<UsernsArg>,
    /// A time namespace with these clock offsets, e.g. `monotonic=1d,boottime=2h`
    /// (seconds, or with unit s, m, h, d; negative allowed).
    #[arg(long, value_name = "CLOCK=OFFSET,…", value_parser = TimeOffsets::parse)]
    pub time_offset: Option<TimeOffsets>,
}

/// What `--userns` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernsArg {
    /// The caller's default mapping ([`IdMapping::for_caller`]).
    Auto,
    /// One range, for uids and gids alike.
    Map(IdMapping),
}

fn parse_namespaces(text: &str) -> Result<Namespaces, String> {
    text.split(',')
        .filter(|n| !n.is_empty())
        .map(|name| {
            Namespace::from_name(name).ok_or_else(|| {
                format!(
                    "{name:?}: no such namespace (use mnt, uts, ipc, pid, net, user, cgroup, time)"
                )
            })
        })
        .collect()
}

fn parse_userns(text: &str) -> Result<UsernsArg, String> {
    if text == "auto" {
        return Ok(UsernsArg::Auto);
    }
    let range = user::parse_range(text)?;
    Ok(UsernsArg::Map(IdMapping {
        uids: vec![range],
        gids: vec![range],
    }))
}

impl NamespaceArgs {
    /// The namespace set and namespace settings these options ask for, on top of `spec`.
    pub fn apply(&self, mut spec: ContainerSpec) -> ContainerSpec {
        spec = spec.namespaces(self.namespaces());
        if let Some(UsernsArg::Map(mapping)) = &self.userns {
            spec = spec.id_mapping(mapping.clone());
        }
        if let Some(offsets) = self.time_offset {
            spec = spec.time_offsets(offsets);
        }
        spec
    }

    // ANCHOR: network_mode
    /// The network mode: `--network`, else docker's default, the bridge, for root; a
    /// caller who is not root cannot create veth pairs and keeps the host's network (as
    /// before), and an explicit `--ns` list means exactly those namespaces.
    pub fn network_mode(&self) -> NetworkMode {
        if let Some(mode) = &self.network {
            return mode.clone();
        }
        match self.ns {
            Some(ns) if ns.contains(Namespace::Network) => NetworkMode::None,
            Some(_) => NetworkMode::Host,
            None if user::caller_ids().0 == 0 => default_for_root(),
            None => NetworkMode::Host,
        }
    }
    // ANCHOR_END: network_mode

    /// The namespaces these options ask for.
    pub fn namespaces(&self) -> Namespaces {
        let mut ns = self.ns.unwrap_or_else(|| {
            let default = Namespaces::container_default();
            // Rootless: without a user namespace a non-root caller could create nothing.
            if user::caller_ids().0 != 0 {
                default.with(Namespace::User)
            } else {
                default
            }
        });
        let mut set = |which: Namespace, private: bool| {
            ns = if private {
                ns.with(which)
            } else {
                ns.without(which)
            };
        };
        match self.network_mode() {
            NetworkMode::None | NetworkMode::Bridge(_) => set(Namespace::Network, true),
            NetworkMode::Host | NetworkMode::Container(_) => set(Namespace::Network, false),
        }
        if let Some(ipc) = self.ipc {
            set(Namespace::Ipc, ipc == Sharing::Private);
        }
        if self.pid.is_some() {
            set(Namespace::Pid, false);
        }
        if self.uts.is_some() {
            set(Namespace::Uts, false);
        }
        if let Some(cgroupns) = self.cgroupns {
            set(Namespace::Cgroup, cgroupns == Sharing::Private);
        }
        if self.userns.is_some() {
            set(Namespace::User, true);
        }
        if self.time_offset.is_some() {
            set(Namespace::Time, true);
        }
        ns
    }
}

/// Root's default network: the bridge, unless `VESSEL_DEFAULT_NETWORK` names another mode
/// (as dockerd's `--bridge=none`): for a machine without nftables or veth support, such as
/// the test VM's busybox guest. A value that is not a mode is ignored with a warning.
fn default_for_root() -> NetworkMode {
    match std::env::var("VESSEL_DEFAULT_NETWORK") {
        Ok(text) => text.parse().unwrap_or_else(|why| {
            // The mode is asked for more than once per run; say it once.
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                crate::cli::output::errln!(
                    "vessel: VESSEL_DEFAULT_NETWORK ignored ({why}); using the bridge"
                );
            });
            NetworkMode::default_bridge()
        }),
        Err(_) => NetworkMode::default_bridge(),
    }
}
