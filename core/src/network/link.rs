//! Network devices over rtnetlink: the bridge, the veth pair, up/down, enslaving.

use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::error::{NetworkError, Result};
use super::netlink::{Netlink, is_errno};

/// The interface index of `name`, or `None` if there is no such device.
pub fn index_of(netlink: &mut Netlink, name: &str) -> Result<Option<u32>> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_owned()));
    match netlink.get(
        &format!("find link {name}"),
        RouteNetlinkMessage::GetLink(message),
    ) {
        Ok(RouteNetlinkMessage::NewLink(link)) => Ok(Some(link.header.index)),
        Ok(other) => Err(NetworkError::NetlinkReply {
            step: format!("find link {name}"),
            detail: format!("{other:?}"),
        }),
        Err(e) if is_errno(&e, libc::ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The names of every device in the socket's namespace.
pub fn names(netlink: &mut Netlink) -> Result<Vec<String>> {
    let links = netlink.dump(
        "list links",
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
    )?;
    Ok(links
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(link) => {
                link.attributes.into_iter().find_map(|a| match a {
                    LinkAttribute::IfName(name) => Some(name),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect())
}

// ANCHOR: create_bridge
/// Creates the bridge `name` (a software switch: frames between its ports stay in the
/// kernel) unless it exists, and returns its index.
pub fn ensure_bridge(netlink: &mut Netlink, name: &str) -> Result<(u32, bool)> {
    if let Some(index) = index_of(netlink, name)? {
        return Ok((index, false));
    }
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_owned()));
    message
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    match netlink.request(
        &format!("create bridge {name}"),
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        // Another vessel made it at the same moment: the same bridge, use it.
        Err(e) if is_errno(&e, libc::EEXIST) => {}
        other => other?,
    }
    let index = index_of(netlink, name)?.ok_or_else(|| NetworkError::NetlinkReply {
        step: format!("create bridge {name}"),
        detail: "the new bridge is not there".to_owned(),
    })?;
    Ok((index, true))
}
// ANCHOR_END: create_bridge

// ANCHOR: create_veth
/// Creates a veth pair: `host` stays here, its peer is created directly inside the
/// network namespace `netns` under the name `peer` (`eth0`), so no other device of
/// that name ever exists on the host, not even for a moment.
pub fn create_veth(
    netlink: &mut Netlink,
    host: &str,
    peer: &str,
    netns: BorrowedFd<'_>,
) -> Result<()> {
    let mut inside = LinkMessage::default();
    inside
        .attributes
        .push(LinkAttribute::IfName(peer.to_owned()));
    inside
        .attributes
        .push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(host.to_owned()));
    message.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(inside))),
    ]));
    netlink.request(
        &format!("create veth pair {host} (host) / {peer} (container)"),
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
    )
}
// ANCHOR_END: create_veth

/// Plugs device `index` into the bridge `bridge` and brings it up, in one request.
pub fn attach_and_up(netlink: &mut Netlink, index: u32, bridge: u32, name: &str) -> Result<()> {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    message.attributes.push(LinkAttribute::Controller(bridge));
    netlink.request(
        &format!("attach {name} to its bridge and bring it up"),
        RouteNetlinkMessage::SetLink(message),
        0,
    )
}

/// Brings device `index` up.
pub fn up(netlink: &mut Netlink, index: u32, name: &str) -> Result<()> {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    netlink.request(
        &format!("bring {name} up"),
        RouteNetlinkMessage::SetLink(message),
        0,
    )
}

/// Deletes device `name`; a device that is gone already is no error. Deleting one end
/// of a veth pair deletes both.
pub fn delete(netlink: &mut Netlink, name: &str) -> Result<bool> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_owned()));
    match netlink.request(
        &format!("delete link {name}"),
        RouteNetlinkMessage::DelLink(message),
        0,
    ) {
        Ok(()) => Ok(true),
        Err(e) if is_errno(&e, libc::ENODEV) => Ok(false),
        Err(e) => Err(e),
    }
}
