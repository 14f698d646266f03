//! IPv4 addresses and routes over rtnetlink.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::error::Result;
use super::netlink::{Netlink, is_errno};

/// Gives device `index` the address `address` (with its prefix, so the kernel adds the
/// route to the subnet itself). An address already there is no error: the bridge keeps
/// its gateway address from one container to the next.
pub fn add(netlink: &mut Netlink, index: u32, address: Ipv4Net, name: &str) -> Result<()> {
    let mut message = AddressMessage::default();
    message.header.family = AddressFamily::Inet;
    message.header.prefix_len = address.prefix_len();
    message.header.index = index;
    message
        .attributes
        .push(AddressAttribute::Local(IpAddr::V4(address.addr())));
    message
        .attributes
        .push(AddressAttribute::Address(IpAddr::V4(address.addr())));
    if address.prefix_len() < 31 {
        message
            .attributes
            .push(AddressAttribute::Broadcast(address.broadcast()));
    }
    match netlink.request(
        &format!("add address {address} to {name}"),
        RouteNetlinkMessage::NewAddress(message),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        Err(e) if is_errno(&e, libc::EEXIST) => Ok(()),
        other => other,
    }
}

// ANCHOR: default_route
/// The default route via `gateway` (the bridge's address): everything not on the
/// container's own subnet goes to the host, which forwards it (or drops it).
pub fn add_default_route(netlink: &mut Netlink, gateway: Ipv4Addr) -> Result<()> {
    let mut message = RouteMessage::default();
    message.header.address_family = AddressFamily::Inet;
    message.header.table = libc::RT_TABLE_MAIN;
    message.header.protocol = RouteProtocol::Boot;
    message.header.scope = RouteScope::Universe;
    message.header.kind = RouteType::Unicast;
    message.header.destination_prefix_length = 0;
    message
        .attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    netlink.request(
        &format!("add default route via {gateway}"),
        RouteNetlinkMessage::NewRoute(message),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
}
// ANCHOR_END: default_route
