//! User networks: `vessel network create|ls|inspect|rm`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::error::{NetworkError, Result};
use super::ports::PortMapping;
use super::store::{DEFAULT_NETWORK, Locked, Network};
use super::{address, link, nft};
use crate::network::netlink::Netlink;

/// Names a user cannot give a network: the modes of `--network`.
const RESERVED: [&str; 4] = [DEFAULT_NETWORK, "host", "none", "container"];

fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(NetworkError::Invalid(format!(
            "network name {name:?}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )));
    }
    if RESERVED.contains(&name) {
        return Err(NetworkError::Invalid(format!(
            "network name {name:?} is reserved for `--network {name}`"
        )));
    }
    Ok(())
}

// ANCHOR: create
/// Creates network `name`: a bridge of its own (`vessel1`, `vessel2`, …) with the
/// gateway's address, its NAT and isolation rules, and its subnet (a free /24 of
/// 10.210.0.0/16 unless given; never overlapping another vessel network).
pub fn create(name: &str, subnet: Option<Ipv4Net>, gateway: Option<Ipv4Addr>) -> Result<Network> {
    check_name(name)?;
    let mut locked = Locked::open()?;
    if locked.state.networks.contains_key(name) {
        return Err(NetworkError::NetworkExists(name.to_owned()));
    }
    let subnet = match subnet {
        Some(subnet) => subnet,
        None if gateway.is_some() => {
            return Err(NetworkError::Invalid(
                "--gateway needs --subnet (the gateway must be inside it)".to_owned(),
            ));
        }
        None => locked.state.free_subnet().ok_or_else(|| {
            NetworkError::Invalid("no free /24 left in 10.210.0.0/16: give --subnet".to_owned())
        })?,
    };
    let (subnet, gateway) = super::ipam::check_subnet(subnet, gateway)?;
    if let Some(other) = locked.state.overlapping(subnet) {
        return Err(NetworkError::Overlap {
            subnet,
            other: other.name,
            other_subnet: other.subnet,
        });
    }
    let network = Network {
        name: name.to_owned(),
        bridge: locked.state.free_bridge_name(),
        subnet,
        gateway,
        created: crate::state::now_rfc3339(),
    };
    let mut netlink = Netlink::open()?;
    let (index, created) = link::ensure_bridge(&mut netlink, &network.bridge)?;
    if !created {
        return Err(NetworkError::Invalid(format!(
            "a device named {} exists already (not made by vessel?): remove it first",
            network.bridge
        )));
    }
    let made = (|| {
        address::add(&mut netlink, index, network.gateway_net(), &network.bridge)?;
        link::up(&mut netlink, index, &network.bridge)?;
        nft::ensure_table()?;
        nft::add_network(&network)
    })();
    if let Err(error) = made {
        let _ = link::delete(&mut netlink, &network.bridge);
        let _ = nft::delete_owned(&[nft::network_comment(name)]);
        return Err(error);
    }
    locked
        .state
        .networks
        .insert(name.to_owned(), network.clone());
    locked.save()?;
    Ok(network)
}
// ANCHOR_END: create

/// A network as `inspect` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Inspected {
    /// The network.
    #[serde(flatten)]
    pub network: Network,
    /// Whether this namespace forwards packets (`net.ipv4.ip_forward`): without it
    /// containers have no egress and published ports answer only on this host.
    pub ip_forward: bool,
    /// Its containers.
    pub containers: Vec<Member>,
}

/// A container on a network.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Its id.
    pub id: String,
    /// Its names on the network.
    pub names: Vec<String>,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its published ports.
    pub ports: Vec<PortMapping>,
}

/// Every network (the default one included) with its containers, after reclaiming
/// the addresses of containers that died without giving theirs back.
pub fn list() -> Result<Vec<Inspected>> {
    super::attach::reclaim_now()?;
    let locked = Locked::open()?;
    let mut networks: Vec<Network> = locked.state.networks.values().cloned().collect();
    if !locked.state.networks.contains_key(DEFAULT_NETWORK) {
        networks.insert(0, Network::default_bridge());
    }
    let ip_forward = super::attach::forwarding();
    Ok(networks
        .into_iter()
        .map(|network| Inspected {
            containers: locked
                .state
                .on(&network.name)
                .map(|a| Member {
                    id: a.container.clone(),
                    names: a.names.clone(),
                    ip: a.ip,
                    ports: a.ports.clone(),
                })
                .collect(),
            network,
            ip_forward,
        })
        .collect())
}

/// One network.
pub fn inspect(name: &str) -> Result<Inspected> {
    list()?
        .into_iter()
        .find(|n| n.network.name == name)
        .ok_or_else(|| NetworkError::NoSuchNetwork(name.to_owned()))
}

// ANCHOR: remove
/// Removes network `name`: refused while a container is on it; then its rules, its
/// bridge and its record go.
pub fn remove(name: &str) -> Result<()> {
    if name == DEFAULT_NETWORK {
        return Err(NetworkError::Invalid(
            "the default network \"bridge\" cannot be removed".to_owned(),
        ));
    }
    super::attach::reclaim_now()?;
    let mut locked = Locked::open()?;
    let network = locked
        .state
        .networks
        .get(name)
        .cloned()
        .ok_or_else(|| NetworkError::NoSuchNetwork(name.to_owned()))?;
    let containers: Vec<String> = locked.state.on(name).map(|a| a.container.clone()).collect();
    if !containers.is_empty() {
        return Err(NetworkError::NetworkInUse {
            network: name.to_owned(),
            containers,
        });
    }
    nft::delete_owned(&[nft::network_comment(name)])?;
    link::delete(&mut Netlink::open()?, &network.bridge)?;
    locked.state.networks.remove(name);
    locked.save()
}
// ANCHOR_END: remove
