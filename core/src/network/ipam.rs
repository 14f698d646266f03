//! IP address management: which address of a subnet a new container gets.
//!
//! Pure logic over the set of addresses in use; [`super::store`] persists that set
//! under a lock. The three classic bugs each have a test below: two containers given
//! one address (the set is consulted and updated under one lock, never from a stale
//! copy), addresses never given back (release removes by container, and a crash is
//! reclaimed), and the subnet's edges (the network address, the broadcast address and
//! the gateway are never handed out; the last usable address is).

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::error::{NetworkError, Result};

// ANCHOR: next_free
/// The lowest address of `subnet` that is not the network address, the broadcast
/// address, the gateway or in `taken`; `None` when there is none left.
pub fn next_free(
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    taken: &HashSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    let first = u32::from(subnet.network()).checked_add(1)?;
    let last = u32::from(subnet.broadcast()).checked_sub(1)?;
    (first..=last)
        .map(Ipv4Addr::from)
        .find(|ip| *ip != gateway && !taken.contains(ip))
}
// ANCHOR_END: next_free

/// How many containers `subnet` can hold: all but network, broadcast and gateway.
pub fn capacity(subnet: Ipv4Net) -> u64 {
    (1u64 << (32 - u32::from(subnet.prefix_len()))).saturating_sub(3)
}

/// Checks a subnet and gateway given by a user: a private range (vessel never claims
/// public addresses), room for at least one container, a gateway inside and not at an
/// edge. The gateway defaults to the first address.
pub fn check_subnet(subnet: Ipv4Net, gateway: Option<Ipv4Addr>) -> Result<(Ipv4Net, Ipv4Addr)> {
    let subnet = subnet.trunc();
    if subnet.prefix_len() > 30 {
        return Err(NetworkError::Invalid(format!(
            "--subnet {subnet}: too small (a /30 is the smallest: network, gateway, one container, broadcast)"
        )));
    }
    if !subnet.network().is_private() {
        return Err(NetworkError::Invalid(format!(
            "--subnet {subnet}: not a private range (use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"
        )));
    }
    let gateway = gateway.unwrap_or_else(|| Ipv4Addr::from(u32::from(subnet.network()) + 1));
    if !subnet.contains(&gateway) || gateway == subnet.network() || gateway == subnet.broadcast() {
        return Err(NetworkError::Invalid(format!(
            "--gateway {gateway}: not a host address of {subnet}"
        )));
    }
    Ok((subnet, gateway))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv4Net {
        text.parse().unwrap()
    }

    #[test]
    fn the_edges_of_a_subnet_are_never_handed_out() {
        // A /30 has exactly one container address: .0 network, .1 gateway, .3 broadcast.
        let subnet = net("10.1.0.0/30");
        let gateway = Ipv4Addr::new(10, 1, 0, 1);
        let mut taken = HashSet::new();
        assert_eq!(
            next_free(subnet, gateway, &taken),
            Some(Ipv4Addr::new(10, 1, 0, 2))
        );
        taken.insert(Ipv4Addr::new(10, 1, 0, 2));
        assert_eq!(next_free(subnet, gateway, &taken), None);
        assert_eq!(capacity(subnet), 1);
    }

    #[test]
    fn the_last_usable_address_is_handed_out_and_then_none() {
        let subnet = net("192.168.7.0/24");
        let gateway = Ipv4Addr::new(192, 168, 7, 1);
        let mut taken = HashSet::new();
        let mut given = Vec::new();
        while let Some(ip) = next_free(subnet, gateway, &taken) {
            taken.insert(ip);
            given.push(ip);
        }
        assert_eq!(given.len() as u64, capacity(subnet));
        assert_eq!(given.first(), Some(&Ipv4Addr::new(192, 168, 7, 2)));
        assert_eq!(given.last(), Some(&Ipv4Addr::new(192, 168, 7, 254)));
        assert!(!given.contains(&Ipv4Addr::new(192, 168, 7, 255)));
        assert!(!given.contains(&Ipv4Addr::new(192, 168, 7, 0)));
    }

    #[test]
    fn a_gateway_in_the_middle_is_skipped() {
        let subnet = net("10.2.0.0/29");
        let gateway = Ipv4Addr::new(10, 2, 0, 3);
        let mut taken = HashSet::new();
        let mut given = Vec::new();
        while let Some(ip) = next_free(subnet, gateway, &taken) {
            taken.insert(ip);
            given.push(ip.octets()[3]);
        }
        assert_eq!(given, [1, 2, 4, 5, 6]);
    }

    #[test]
    fn bad_subnets_and_gateways_are_refused() {
        assert!(check_subnet(net("10.0.0.0/31"), None).is_err());
        assert!(check_subnet(net("8.8.8.0/24"), None).is_err());
        assert!(check_subnet(net("10.0.0.0/24"), Some(Ipv4Addr::new(10, 0, 0, 255))).is_err());
        assert!(check_subnet(net("10.0.0.0/24"), Some(Ipv4Addr::new(10, 0, 1, 1))).is_err());
        let (subnet, gateway) = check_subnet(net("10.0.0.77/24"), None).unwrap();
        assert_eq!(
            (subnet, gateway),
            (net("10.0.0.0/24"), Ipv4Addr::new(10, 0, 0, 1))
        );
    }
}
