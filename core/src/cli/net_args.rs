//! The network options of `vessel run`: `--network MODE`, `-p`, `--dns`.

use std::net::Ipv4Addr;

use clap::Args;

use crate::lifecycle::run::NetworkRequest;
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

impl NetworkArgs {
    /// What the container asks of the network: `mode` (see
    /// [`super::ns_args::NamespaceArgs::network_mode`]) with `-p` and `--dns`.
    pub fn request(self, mode: NetworkMode) -> NetworkRequest {
        NetworkRequest {
            mode,
            publish: self.publish,
            dns: self.dns,
        }
    }
}
