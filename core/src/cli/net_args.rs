//! The network options of `vessel run`: `--network MODE`, `-p`, `--dns`.

use std::net::Ipv4Addr;

use clap::Args;

use crate::network::PortMapping;

pub use crate::network::NetworkMode;

/// `-p` and `--dns`.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Publish a container's port on the host: `[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`
    /// (repeatable), reachable from other hosts and namespaces and from the host's own
    /// loopback (bridge networks only).
    #[arg(short = 'p', long = "publish", value_name = "[IP:]HOST:CTR[/PROTO]")]
    pub publish: Vec<PortMapping>,
    /// A name server for the container's /etc/resolv.conf (repeatable) [default: the
    /// host's, without its loopback servers].
    #[arg(long, value_name = "IP")]
    pub dns: Vec<Ipv4Addr>,
}

/// What `vessel run` prepared for the network before the clone.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Bridge mode: the leased address (given back when this drops, unless kept).
    pub lease: Option<crate::network::Lease>,
    /// Container mode: the network namespace to join (`/proc/PID/ns/net` of the other
    /// container's first process, checked alive by pid and start time just now; the
    /// plan opens it, and the child joins it with `setns` as its first step).
    pub join: Option<std::path::PathBuf>,
}

// ANCHOR: prepare_network
/// Before the clone: the address and `/etc/hosts`/`/etc/resolv.conf` for bridge mode,
/// or the other container's namespace for container mode. `-p` and `--dns` only make
/// sense on a bridge, and are refused elsewhere rather than silently ignored.
pub fn prepare(
    root: &crate::state::Root,
    mode: &NetworkMode,
    args: &NetworkArgs,
    userns: bool,
    id: &str,
    names: Vec<String>,
    init_layer: Option<&std::path::Path>,
) -> crate::Result<Prepared> {
    let bridge = matches!(mode, NetworkMode::Bridge(_));
    if !bridge && !args.publish.is_empty() {
        return Err(invalid(format!(
            "-p needs a bridge network, not --network {mode}"
        )));
    }
    if !bridge && !args.dns.is_empty() {
        return Err(invalid(format!(
            "--dns needs a bridge network, not --network {mode}"
        )));
    }
    match mode {
        NetworkMode::Bridge(network) => {
            let request = crate::network::Request {
                network: network.clone(),
                names,
                ports: args.publish.clone(),
                dns: args.dns.clone(),
            };
            let lease = crate::network::attach::lease(id, &request, init_layer)?;
            if !args.publish.is_empty() && !crate::network::attach::forwarding() {
                super::output::errln!(
                    "vessel: note: net.ipv4.ip_forward is 0 in this network namespace: the \
                     published ports answer on this host (its loopback and its own \
                     addresses) but not to other hosts or namespaces, and the container has \
                     no way out. vessel does not change this host-wide setting for you \
                     (docker does): `sysctl -w net.ipv4.ip_forward=1` allows both."
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
            let record = crate::state::StateDir::open_in(root)?.find(target)?;
            if record.observed() != crate::state::Observed::Running {
                return Err(invalid(format!(
                    "--network container:{target}: container {} is not running",
                    record.id
                )));
            }
            let join = std::path::PathBuf::from(format!("/proc/{}/ns/net", record.pid));
            Ok(Prepared {
                lease: None,
                join: Some(join),
            })
        }
        NetworkMode::None | NetworkMode::Host => Ok(Prepared::default()),
    }
}
// ANCHOR_END: prepare_network

fn invalid(message: String) -> crate::Error {
    crate::network::NetworkError::Invalid(message).into()
}
