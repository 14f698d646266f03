//! vessel's networks and the addresses given out on them, persisted under a lock.
//!
//! The state describes bridges, and a bridge lives in one network namespace: so the
//! state is kept per namespace, in `/run/vessel-net/DEV-INODE/` (a tmpfs, like the
//! bridges it describes it is gone after a reboot), or in `$VESSEL_NET_DIR`. Every
//! change is read-modify-write of one JSON file under an exclusive `flock`, written to
//! a temporary file and renamed over the old one, so a `kill -9` at any point leaves
//! either the old state or the new, and never two containers with one address.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};
use super::ipam;
use super::ports::PortMapping;

/// Overrides where the network state is kept.
pub const NET_DIR_ENV: &str = "VESSEL_NET_DIR";
/// Under it, one directory per network namespace.
pub const DEFAULT_NET_DIR: &str = "/run/vessel-net";
/// The default network's name, as docker calls it.
pub const DEFAULT_NETWORK: &str = "bridge";
// ANCHOR: default_subnet
/// The default network's bridge and subnet: a private /16 that docker (172.17.0.0/16)
/// and podman (10.88.0.0/16) do not use by default. The gateway is its first address.
pub const DEFAULT_BRIDGE: &str = "vessel0";
/// See [`DEFAULT_BRIDGE`].
pub const DEFAULT_SUBNET: &str = "10.209.0.0/16";
/// User networks get a free /24 of this range unless `--subnet` says otherwise.
pub const USER_SUBNET_POOL: &str = "10.210.0.0/16";
// ANCHOR_END: default_subnet

/// One network: a bridge and its subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Its name (`bridge` for the default).
    pub name: String,
    /// The bridge device.
    pub bridge: String,
    /// The subnet containers get addresses from.
    pub subnet: Ipv4Net,
    /// The bridge's own address, the containers' default route.
    pub gateway: Ipv4Addr,
    /// When it was created (RFC 3339).
    pub created: String,
}

impl Network {
    /// The default network, as it is before its first use.
    pub fn default_bridge() -> Network {
        Network {
            name: DEFAULT_NETWORK.to_owned(),
            bridge: DEFAULT_BRIDGE.to_owned(),
            subnet: DEFAULT_SUBNET.parse().expect("a valid subnet"),
            gateway: Ipv4Addr::new(10, 209, 0, 1),
            created: String::new(),
        }
    }

    /// The gateway with the subnet's prefix: the bridge's address.
    pub fn gateway_net(&self) -> Ipv4Net {
        Ipv4Net::new(self.gateway, self.subnet.prefix_len()).expect("prefix from a subnet")
    }
}

/// One container's address on one network, and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The network.
    pub network: String,
    /// The address.
    pub ip: Ipv4Addr,
    /// The container's id.
    pub container: String,
    /// The names it is found by on its network (`--name`, hostname).
    pub names: Vec<String>,
    /// The process holding the address: the `vessel` that allocated it until the
    /// container's first process exists, then that process. When it is gone (and was
    /// not given back: a crash), the address is reclaimed.
    pub holder_pid: libc::pid_t,
    /// The holder's start time, so a recycled pid is never taken for it.
    pub holder_start_time: u64,
    /// The container's `/etc/hosts` in its init layer, rewritten when a peer comes or
    /// goes on a user network.
    pub hosts_file: Option<PathBuf>,
    /// Its `-p` mappings (their nftables rules carry the container id as comment).
    #[serde(default)]
    pub ports: Vec<PortMapping>,
}

impl Allocation {
    /// Whether the process holding this address is still alive.
    pub fn held(&self) -> bool {
        crate::state::process::is_same_process(self.holder_pid, self.holder_start_time)
    }
}

/// Everything in one state file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Networks by name (the default one appears after its first use).
    pub networks: BTreeMap<String, Network>,
    /// Every address in use.
    pub allocations: Vec<Allocation>,
}

impl State {
    /// The network `name`: the default one exists implicitly.
    pub fn network(&self, name: &str) -> Result<Network> {
        match self.networks.get(name) {
            Some(network) => Ok(network.clone()),
            None if name == DEFAULT_NETWORK => Ok(Network::default_bridge()),
            None => Err(NetworkError::NoSuchNetwork(name.to_owned())),
        }
    }

    /// Gives container `container` the lowest free address of `network`.
    pub fn allocate(&mut self, network: &Network, mut allocation: Allocation) -> Result<Ipv4Addr> {
        let taken: HashSet<Ipv4Addr> = self
            .allocations
            .iter()
            .filter(|a| a.network == network.name)
            .map(|a| a.ip)
            .collect();
        let ip = ipam::next_free(network.subnet, network.gateway, &taken).ok_or_else(|| {
            NetworkError::Exhausted {
                network: network.name.clone(),
                subnet: network.subnet,
            }
        })?;
        self.networks
            .entry(network.name.clone())
            .or_insert_with(|| Network {
                created: crate::state::now_rfc3339(),
                ..network.clone()
            });
        allocation.ip = ip;
        allocation.network = network.name.clone();
        self.allocations.push(allocation);
        Ok(ip)
    }

    /// Removes and returns every allocation of `container`.
    pub fn release(&mut self, container: &str) -> Vec<Allocation> {
        let (gone, kept) = std::mem::take(&mut self.allocations)
            .into_iter()
            .partition(|a| a.container == container);
        self.allocations = kept;
        gone
    }

    /// Removes and returns every allocation whose holder is dead: containers whose
    /// supervisor was killed before it could give the address back.
    pub fn reclaim(&mut self) -> Vec<Allocation> {
        let (gone, kept) = std::mem::take(&mut self.allocations)
            .into_iter()
            .partition(|a| !a.held());
        self.allocations = kept;
        gone
    }

    /// The allocations on `network`.
    pub fn on(&self, network: &str) -> impl Iterator<Item = &Allocation> {
        self.allocations
            .iter()
            .filter(move |a| a.network == network)
    }

    /// A bridge name no network uses: `vessel1`, `vessel2`, …
    pub fn free_bridge_name(&self) -> String {
        (1..)
            .map(|n| format!("vessel{n}"))
            .find(|b| self.networks.values().all(|n| &n.bridge != b))
            .expect("an unused name")
    }

    /// A /24 of the user pool that overlaps no network.
    pub fn free_subnet(&self) -> Option<Ipv4Net> {
        let pool: Ipv4Net = USER_SUBNET_POOL.parse().expect("a valid pool");
        pool.subnets(24)
            .ok()?
            .find(|s| self.overlapping(*s).is_none())
    }

    /// The network whose subnet overlaps `subnet`, if any (the default one included).
    pub fn overlapping(&self, subnet: Ipv4Net) -> Option<Network> {
        let default = Network::default_bridge();
        self.networks
            .values()
            .chain(std::iter::once(&default))
            .find(|n| n.subnet.contains(&subnet.network()) || subnet.contains(&n.subnet.network()))
            .cloned()
    }
}

/// The state directory of the calling process's network namespace.
pub fn dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(NET_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    Ok(Path::new(DEFAULT_NET_DIR).join(super::netns::current_id()?))
}

/// The state, locked for this process until the guard drops.
#[derive(Debug)]
pub struct Locked {
    dir: PathBuf,
    _lock: File,
    /// The state as read under the lock.
    pub state: State,
}

impl Locked {
    /// Takes the lock (waiting for it) and reads the state.
    pub fn open() -> Result<Locked> {
        Locked::open_in(&dir()?)
    }

    /// The same, in `dir`.
    pub fn open_in(dir: &Path) -> Result<Locked> {
        let fail = |what, path: &Path| {
            let path = path.to_owned();
            move |source| NetworkError::State { path, what, source }
        };
        fs::create_dir_all(dir).map_err(fail("create the directory", dir))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(fail("open the lock", &lock_path))?;
        lock.lock().map_err(fail("flock", &lock_path))?;
        let file = dir.join("state.json");
        let state = match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| NetworkError::State {
                path: file.clone(),
                what: "parse",
                source: e.into(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(fail("read", &file)(e)),
        };
        Ok(Locked {
            dir: dir.to_owned(),
            _lock: lock,
            state,
        })
    }

    /// Writes the state back (atomically: a temporary file renamed over the old one).
    pub fn save(&self) -> Result<()> {
        let file = self.dir.join("state.json");
        let temp = self.dir.join(".state.json.new");
        let fail = |what| {
            let path = file.clone();
            move |source| NetworkError::State { path, what, source }
        };
        let bytes =
            serde_json::to_vec_pretty(&self.state).map_err(|e| fail("serialize")(e.into()))?;
        let mut out = File::create(&temp).map_err(fail("write"))?;
        out.write_all(&bytes).map_err(fail("write"))?;
        out.sync_data().map_err(fail("sync"))?;
        fs::rename(&temp, &file).map_err(fail("rename into place"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allocation(container: &str, pid: libc::pid_t, start: u64) -> Allocation {
        Allocation {
            network: String::new(),
            ip: Ipv4Addr::UNSPECIFIED,
            container: container.to_owned(),
            names: vec![],
            holder_pid: pid,
            holder_start_time: start,
            hosts_file: None,
            ports: vec![],
        }
    }

    fn me() -> (libc::pid_t, u64) {
        let pid = std::process::id() as libc::pid_t;
        (pid, crate::state::process::start_time(pid).unwrap())
    }

    #[test]
    fn concurrent_allocations_never_share_an_address() {
        let dir = tempfile::tempdir().unwrap();
        let network = Network::default_bridge();
        let (pid, start) = me();
        let ips: Vec<Ipv4Addr> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let dir = dir.path();
                    let network = &network;
                    s.spawn(move || {
                        (0..25)
                            .map(|n| {
                                let mut locked = Locked::open_in(dir).unwrap();
                                let ip = locked
                                    .state
                                    .allocate(network, allocation(&format!("{t}-{n}"), pid, start))
                                    .unwrap();
                                locked.save().unwrap();
                                ip
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let unique: HashSet<_> = ips.iter().collect();
        assert_eq!(unique.len(), 200, "an address was given twice");
        assert_eq!(
            Locked::open_in(dir.path()).unwrap().state.allocations.len(),
            200
        );
    }

    #[test]
    fn released_and_reclaimed_addresses_do_not_leak() {
        let dir = tempfile::tempdir().unwrap();
        let network: Network = Network {
            subnet: "10.3.0.0/29".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 3, 0, 1),
            ..Network::default_bridge()
        };
        let (pid, start) = me();
        // Many more runs than the subnet has addresses: each one gives its back.
        for n in 0..100 {
            let mut locked = Locked::open_in(dir.path()).unwrap();
            locked
                .state
                .allocate(&network, allocation(&n.to_string(), pid, start))
                .unwrap();
            locked.save().unwrap();
            drop(locked);
            let mut locked = Locked::open_in(dir.path()).unwrap();
            assert_eq!(locked.state.release(&n.to_string()).len(), 1);
            locked.save().unwrap();
        }
        // A holder that died without giving its address back (a crash) is reclaimed;
        // a live one is not.
        let mut locked = Locked::open_in(dir.path()).unwrap();
        for n in 0..5 {
            let (pid, start) = if n == 0 {
                (pid, start)
            } else {
                (pid, start + 1)
            };
            locked
                .state
                .allocate(&network, allocation(&format!("c{n}"), pid, start))
                .unwrap();
        }
        assert!(
            locked
                .state
                .allocate(&network, allocation("full", pid, start))
                .is_err()
        );
        assert_eq!(locked.state.reclaim().len(), 4);
        assert_eq!(locked.state.allocations.len(), 1);
        assert_eq!(locked.state.allocations[0].container, "c0");
        assert!(
            locked
                .state
                .allocate(&network, allocation("again", pid, start))
                .is_ok()
        );
    }
}
