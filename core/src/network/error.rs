//! What can go wrong while wiring a container to a network, each error naming the step
//! it was at and what to do about it.

use std::io;
use std::path::PathBuf;

/// A failed network step.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A netlink request (a link, an address, a route) was refused by the kernel.
    #[error("netlink: {step}")]
    Netlink {
        /// What was asked, e.g. `create veth pair vs1a2b… / eth0`.
        step: String,
        #[source]
        source: io::Error,
    },
    /// The kernel answered a netlink request with something vessel cannot read.
    #[error("netlink: {step}: unexpected answer from the kernel: {detail}")]
    NetlinkReply {
        /// What was asked.
        step: String,
        /// What came back.
        detail: String,
    },
    /// `nft` refused vessel's rules, or is missing.
    #[error("nftables: {step} (is the `nft` program installed? Debian: apt-get install nftables)")]
    Nftables {
        /// What was asked.
        step: String,
        #[source]
        source: nftables::helper::NftablesError,
    },
    /// A network's state file or lock could not be used.
    #[error("network state {path}: {what}")]
    State {
        /// The file.
        path: PathBuf,
        /// What vessel tried to do with it.
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// Every address of the subnet is taken.
    #[error(
        "network {network:?}: no free address left in {subnet} (remove containers, or create a network with a larger --subnet)"
    )]
    Exhausted {
        /// The network's name.
        network: String,
        /// Its subnet.
        subnet: ipnet::Ipv4Net,
    },
    /// No network of that name.
    #[error("no network named {0:?} (see `vessel network ls`, or `vessel network create {0}`)")]
    NoSuchNetwork(String),
    /// `network create` with a name that exists.
    #[error("a network named {0:?} exists already")]
    NetworkExists(String),
    /// `network rm` of a network that containers use.
    #[error("network {network:?} is in use by {containers:?}: remove those containers first")]
    NetworkInUse {
        /// The network.
        network: String,
        /// The ids of the containers on it.
        containers: Vec<String>,
    },
    /// A subnet that overlaps another network's.
    #[error("subnet {subnet} overlaps network {other:?} ({other_subnet}): choose another --subnet")]
    Overlap {
        /// The subnet asked for.
        subnet: ipnet::Ipv4Net,
        /// The network it overlaps.
        other: String,
        /// That network's subnet.
        other_subnet: ipnet::Ipv4Net,
    },
    /// Bad user input: a subnet, gateway, name or port mapping that cannot work.
    #[error("{0}")]
    Invalid(String),
    /// A system call outside netlink failed.
    #[error("{call}")]
    Sys {
        /// The call and its argument.
        call: String,
        #[source]
        source: io::Error,
    },
}

/// Network results.
pub type Result<T, E = NetworkError> = std::result::Result<T, E>;

/// A [`NetworkError::Sys`] for `call`.
pub(crate) fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> NetworkError {
    let call = call.into();
    move |source| NetworkError::Sys { call, source }
}
