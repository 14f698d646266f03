//! One container on one network: its address (leased before the start), its veth pair
//! and addresses (made by the parent while the child waits), and its teardown.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};
use super::files;
use super::netlink::Netlink;
use super::ports::PortMapping;
use super::store::{Allocation, DEFAULT_NETWORK, Locked, Network, State};
use super::{address, link, netns, nft};

/// The device name of the container's end of the pair.
pub const CONTAINER_DEVICE: &str = "eth0";

/// The host's end of container `id`'s veth pair: `vs` and the 12-digit id, 14
/// characters (the kernel allows 15), so teardown finds it from the id alone.
pub fn host_device(id: &str) -> String {
    format!("vs{}", &id[..id.len().min(12)])
}

/// What a container asks of its network.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The network's name (`bridge` for the default).
    pub network: String,
    /// Its names on the network (`--name`, the hostname), first the hostname.
    pub names: Vec<String>,
    /// `-p` mappings.
    pub ports: Vec<PortMapping>,
    /// `--dns` servers.
    pub dns: Vec<Ipv4Addr>,
}

/// Everything the parent needs to wire the container once it exists: plain data,
/// prepared before the clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The container's id.
    pub container: String,
    /// Its network.
    pub network: Network,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its port mappings.
    pub ports: Vec<PortMapping>,
}

/// An address leased to a container that has not started yet: dropped before
/// [`Lease::keep`], it is given back (a failed start leaves nothing behind).
#[derive(Debug)]
pub struct Lease {
    attachment: Option<Attachment>,
}

impl Lease {
    /// The wiring to do once the container exists.
    pub fn attachment(&self) -> &Attachment {
        self.attachment
            .as_ref()
            .expect("a lease holds its attachment until kept")
    }

    /// The address stays leased: the container runs, and whoever supervises it
    /// releases the address when it exits ([`release`]).
    pub fn keep(mut self) -> Attachment {
        self.attachment.take().expect("kept once")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(attachment) = self.attachment.take() {
            let _ = release(&attachment.container);
        }
    }
}

// ANCHOR: lease
/// Before the clone: reclaims the addresses of containers that died without giving
/// theirs back, creates the network's bridge on first use, leases the lowest free
/// address to container `id`, and writes `/etc/hosts` and `/etc/resolv.conf` into its
/// init layer (`init_layer`, when it has one). All under the state lock.
pub fn lease(id: &str, request: &Request, init_layer: Option<&Path>) -> Result<Lease> {
    let mut locked = Locked::open()?;
    reclaim(&mut locked.state)?;
    let network = locked.state.network(&request.network)?;
    ensure_bridge(&network, !request.ports.is_empty())?;
    let hosts_file = init_layer.map(|dir| dir.join("etc/hosts"));
    let me = std::process::id() as libc::pid_t;
    let allocation = Allocation {
        network: network.name.clone(),
        ip: Ipv4Addr::UNSPECIFIED,
        container: id.to_owned(),
        names: request.names.clone(),
        holder_pid: me,
        holder_start_time: crate::state::process::start_time(me).unwrap_or(0),
        hosts_file: hosts_file.clone(),
        ports: request.ports.clone(),
    };
    let ip = locked.state.allocate(&network, allocation)?;
    locked.save()?;
    crate::sys::crash::hold_point("net-leased");
    let lease = Lease {
        attachment: Some(Attachment {
            container: id.to_owned(),
            network: network.clone(),
            ip,
            ports: request.ports.clone(),
        }),
    };
    if let Some(dir) = init_layer {
        let own = (ip, request.names.as_slice());
        let peers = peers_of(&locked.state, &network, id);
        write_init_file(dir, "etc/hosts", &files::hosts(Some(own), &peers))?;
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        write_init_file(
            dir,
            "etc/resolv.conf",
            &files::resolv_conf(&host, &request.dns),
        )?;
        rewrite_peers(&locked.state, &network, id);
    }
    Ok(lease)
}
// ANCHOR_END: lease

/// Creates `network`'s bridge with its gateway address and its nftables rules, unless
/// it exists. With port mappings, turns on `route_localnet` for it (see
/// [`nft::add_network`]: 127.0.0.1 is DNATed out of this bridge).
fn ensure_bridge(network: &Network, ports: bool) -> Result<()> {
    let mut netlink = Netlink::open()?;
    let (index, created) = link::ensure_bridge(&mut netlink, &network.bridge)?;
    if created {
        address::add(&mut netlink, index, network.gateway_net(), &network.bridge)?;
        link::up(&mut netlink, index, &network.bridge)?;
        nft::ensure_table()?;
        nft::add_network(network)?;
    }
    if ports {
        route_localnet(&network.bridge)?;
    }
    Ok(())
}

// ANCHOR: route_localnet
/// `net.ipv4.conf.BRIDGE.route_localnet = 1`, only for vessel's own bridge, only when
/// a port is mapped: the kernel then routes a packet whose source is 127.0.0.1 (a
/// connection to 127.0.0.1:HOSTPORT, DNATed to the container) out of the bridge
/// instead of dropping it as a martian. The alternative, a userland proxy process per
/// port (docker's default), costs a process and a copy of every byte; the guard chain
/// drops what `route_localnet` would otherwise let in (packets from the bridge to
/// 127.0.0.0/8, CVE-2020-8558).
fn route_localnet(bridge: &str) -> Result<()> {
    let path = format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet");
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    std::fs::write(&path, "1").map_err(super::error::sys(format!("write 1 to {path}")))
}
// ANCHOR_END: route_localnet

/// Whether the host forwards packets between interfaces (`net.ipv4.ip_forward`, of the
/// calling process's network namespace).
pub fn forwarding() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").is_ok_and(|v| v.trim() == "1")
}

fn write_init_file(dir: &Path, rel: &str, text: &str) -> Result<()> {
    crate::image::init_layer::rewrite(dir, rel, text.as_bytes()).map_err(|source| {
        NetworkError::State {
            path: dir.join(rel),
            what: "write the init layer's file",
            source,
        }
    })
}

/// The other containers on `network`, by address and names (none on the default
/// network: as in docker, only user networks resolve each other's names).
fn peers_of(state: &State, network: &Network, except: &str) -> Vec<(Ipv4Addr, Vec<String>)> {
    if network.name == DEFAULT_NETWORK {
        return Vec::new();
    }
    state
        .on(&network.name)
        .filter(|a| a.container != except)
        .map(|a| (a.ip, a.names.clone()))
        .collect()
}

/// Rewrites the `/etc/hosts` of every container on `network` but `except` (best
/// effort: a container whose init layer is gone is on its way out).
fn rewrite_peers(state: &State, network: &Network, except: &str) {
    if network.name == DEFAULT_NETWORK {
        return;
    }
    for peer in state.on(&network.name).filter(|a| a.container != except) {
        let Some(hosts) = &peer.hosts_file else {
            continue;
        };
        let Some(dir) = hosts.parent().and_then(Path::parent) else {
            continue;
        };
        let text = files::hosts(
            Some((peer.ip, peer.names.as_slice())),
            &peers_of(state, network, &peer.container),
        );
        let _ = crate::image::init_layer::rewrite(dir, "etc/hosts", text.as_bytes());
    }
}

impl Attachment {
    // ANCHOR: attach
    /// In the parent, while container process `pid` waits on the go pipe: a veth pair
    /// with `eth0` created inside its namespace, the host end plugged into the bridge,
    /// `eth0` given its address and brought up, the default route via the gateway, the
    /// port mappings added; then the container's process holds the address.
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        let netns = netns::of_pid(pid)?;
        let host = host_device(&self.container);
        let mut netlink = Netlink::open()?;
        let bridge = link::index_of(&mut netlink, &self.network.bridge)?.ok_or_else(|| {
            NetworkError::Invalid(format!(
                "the bridge {} of network {:?} vanished (deleted by hand?): \
                 run again to recreate it",
                self.network.bridge, self.network.name
            ))
        })?;
        link::create_veth(
            &mut netlink,
            &host,
            CONTAINER_DEVICE,
            std::os::fd::AsFd::as_fd(&netns),
        )?;
        let index =
            link::index_of(&mut netlink, &host)?.ok_or_else(|| NetworkError::NetlinkReply {
                step: format!("create veth pair {host}"),
                detail: "the host end is not there".to_owned(),
            })?;
        link::attach_and_up(&mut netlink, index, bridge, &host)?;
        let mut inside = netns::socket_in(&netns)?;
        let eth0 = link::index_of(&mut inside, CONTAINER_DEVICE)?.ok_or_else(|| {
            NetworkError::NetlinkReply {
                step: "find eth0 in the container".to_owned(),
                detail: "not there".to_owned(),
            }
        })?;
        let own = ipnet::Ipv4Net::new(self.ip, self.network.subnet.prefix_len())
            .expect("prefix of a subnet");
        address::add(&mut inside, eth0, own, CONTAINER_DEVICE)?;
        link::up(&mut inside, eth0, CONTAINER_DEVICE)?;
        address::add_default_route(&mut inside, self.network.gateway)?;
        nft::add_ports(&self.container, self.ip, &self.ports)?;
        crate::sys::crash::hold_point("net-attached");
        self.hold(pid)
    }
    // ANCHOR_END: attach

    /// Records `pid` (the container's first process) as the address's holder.
    fn hold(&self, pid: libc::pid_t) -> Result<()> {
        let mut locked = Locked::open()?;
        let start = crate::state::process::start_time(pid).unwrap_or(0);
        let mut found = false;
        for a in locked.state.allocations.iter_mut() {
            if a.container == self.container {
                a.holder_pid = pid;
                a.holder_start_time = start;
                found = true;
            }
        }
        if !found {
            return Err(NetworkError::Invalid(format!(
                "the address {} of container {} was released during its start (vessel rm?)",
                self.ip, self.container
            )));
        }
        locked.save()
    }
}

// ANCHOR: release
/// Gives back everything container `id` holds on every network: its address, its host
/// veth (the kernel removes the pair with the container's namespace, unless something
/// still holds that namespace), its nftables rules, its name in its peers'
/// `/etc/hosts`. Idempotent: `rm` after an exit finds nothing to do.
pub fn release(id: &str) -> Result<()> {
    let dir = super::store::dir()?;
    if !dir.join("state.json").exists() {
        return Ok(());
    }
    let mut locked = Locked::open_in(&dir)?;
    let gone = locked.state.release(id);
    if gone.is_empty() {
        return Ok(());
    }
    tear_down(&locked.state, &gone)?;
    locked.save()
}
// ANCHOR_END: release

/// Removes what the allocations `gone` (already out of `state`) had on the host.
fn tear_down(state: &State, gone: &[Allocation]) -> Result<()> {
    let mut netlink = Netlink::open()?;
    let mut owners = Vec::new();
    for allocation in gone {
        link::delete(&mut netlink, &host_device(&allocation.container))?;
        if !allocation.ports.is_empty() {
            owners.push(allocation.container.clone());
        }
        if let Ok(network) = state.network(&allocation.network) {
            rewrite_peers(state, &network, &allocation.container);
        }
    }
    nft::delete_owned(&owners)?;
    Ok(())
}

/// Reclaims every address whose holder died without releasing it.
fn reclaim(state: &mut State) -> Result<()> {
    let gone = state.reclaim();
    if gone.is_empty() {
        return Ok(());
    }
    tear_down(state, &gone)
}

/// Reclaims dead holders' addresses now (the leak check and `network ls` call it).
pub fn reclaim_now() -> Result<Vec<String>> {
    let dir = super::store::dir()?;
    if !dir.join("state.json").exists() {
        return Ok(Vec::new());
    }
    let mut locked = Locked::open_in(&dir)?;
    let gone = locked.state.reclaim();
    tear_down(&locked.state, &gone)?;
    locked.save()?;
    Ok(gone.into_iter().map(|a| a.container).collect())
}

/// The hosts file path of an allocation (for tests and inspect).
pub fn hosts_file_of(state: &State, id: &str) -> Option<PathBuf> {
    state
        .allocations
        .iter()
        .find(|a| a.container == id)
        .and_then(|a| a.hosts_file.clone())
}
