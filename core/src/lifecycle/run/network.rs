//! The network of a new container, made ready before the clone: the address leased and
//! `/etc/hosts` written (bridge), or the other container's namespace found (container).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::lifecycle::error::{Result, Warn};
use crate::network::{Lease, NetworkError, NetworkMode, PortMapping};
use crate::state::{Observed, Root, StateDir};

/// What a new container asks of the network (`--network`, `-p`, `--dns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRequest {
    /// The mode (`--network`).
    pub mode: NetworkMode,
    /// Ports published on the host (`-p`): bridge networks only.
    pub publish: Vec<PortMapping>,
    /// Name servers for its `/etc/resolv.conf` (`--dns`): bridge networks only.
    pub dns: Vec<Ipv4Addr>,
}

/// What was prepared for the network before the clone.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Bridge mode: the leased address (given back when this drops, unless kept).
    pub lease: Option<Lease>,
    /// Container mode: the network namespace to join (`/proc/PID/ns/net` of the other
    /// container's first process, checked alive by pid and start time just now; the
    /// plan opens it, and the child joins it with `setns` as its first step).
    pub join: Option<PathBuf>,
}

// ANCHOR: prepare_network
/// Before the clone: the address and `/etc/hosts`/`/etc/resolv.conf` for bridge mode,
/// or the other container's namespace for container mode. `-p` and `--dns` only make
/// sense on a bridge, and are refused elsewhere rather than silently ignored.
pub fn prepare(
    root: &Root,
    asked: &NetworkRequest,
    userns: bool,
    id: &str,
    names: Vec<String>,
    init_layer: Option<&Path>,
    warn: Warn,
) -> Result<Prepared> {
    let mode = &asked.mode;
    let bridge = matches!(mode, NetworkMode::Bridge(_));
    if !bridge && !asked.publish.is_empty() {
        return Err(invalid(format!(
            "-p needs a bridge network, not --network {mode}"
        )));
    }
    if !bridge && !asked.dns.is_empty() {
        return Err(invalid(format!(
            "--dns needs a bridge network, not --network {mode}"
        )));
    }
    match mode {
        NetworkMode::Bridge(network) => {
            let request = crate::network::Request {
                network: network.clone(),
                names,
                ports: asked.publish.clone(),
                dns: asked.dns.clone(),
            };
            let lease = crate::network::attach::lease(id, &request, init_layer)?;
            if !asked.publish.is_empty() && !crate::network::attach::forwarding() {
                warn(
                    "note: net.ipv4.ip_forward is 0 in this network namespace: the \
                     published ports answer on this host (its loopback and its own \
                     addresses) but not to other hosts or namespaces, and the container has \
                     no way out. vessel does not change this host-wide setting for you \
                     (docker does): `sysctl -w net.ipv4.ip_forward=1` allows both.",
                );
            }
            Ok(Prepared {
                lease: Some(lease),
                join: None,
            })
        }
        NetworkMode::Container(target) => {
            if userns {
                return Err(invalid(format!(
                    "--network container:{target} cannot be combined with --userns \
                     (a new user namespace may not join the other container's network namespace)"
                )));
            }
            let record = StateDir::open_in(root)?.find(target)?;
            if record.observed() != Observed::Running {
                return Err(invalid(format!(
                    "--network container:{target}: container {} is not running",
                    record.id
                )));
            }
            let join = PathBuf::from(format!("/proc/{}/ns/net", record.pid));
            Ok(Prepared {
                lease: None,
                join: Some(join),
            })
        }
        NetworkMode::None | NetworkMode::Host => Ok(Prepared::default()),
    }
}
// ANCHOR_END: prepare_network

fn invalid(message: String) -> crate::lifecycle::LifecycleError {
    NetworkError::Invalid(message).into()
}
