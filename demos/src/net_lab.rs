//! The network lessons' laboratory: this process moves into a scratch network
//! namespace that plays "the host", so every bridge, veth, address and nftables rule a
//! lesson makes lives only in namespaces it created, and vessel's network state goes
//! to a scratch directory. Forwarding is turned on in the scratch namespace only.

use std::path::PathBuf;
use std::process::Command;

use vessel::network::netlink::Netlink;
use vessel::network::{Lease, PortMapping, Request, link};
use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, Namespace, Namespaces, rootfs};

/// The scratch "host": removed (state directory) when dropped; the namespace itself
/// goes with this process.
#[derive(Debug)]
pub struct NetLab {
    state: PathBuf,
}

impl NetLab {
    /// Moves this (still single-threaded) process into a new network namespace, brings
    /// its `lo` up, turns forwarding on there, and points vessel's network state at a
    /// scratch directory.
    pub fn enter(lesson: &str) -> Result<NetLab, Box<dyn std::error::Error>> {
        // SAFETY: unshare takes a flag word; only this thread's network namespace
        // changes, and the lesson has started no other thread yet.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } == -1 {
            return Err(
                format!("unshare(CLONE_NEWNET): {}", std::io::Error::last_os_error()).into(),
            );
        }
        let mut netlink = Netlink::open()?;
        link::up(&mut netlink, 1, "lo")?;
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")?;
        let state = std::env::temp_dir().join(format!("vessel-{lesson}-{}", std::process::id()));
        std::fs::create_dir_all(&state)?;
        // SAFETY: single-threaded still (see above): nobody reads the environment now.
        unsafe { std::env::set_var(vessel::network::store::NET_DIR_ENV, &state) };
        Ok(NetLab { state })
    }

    /// A container in a network namespace of its own running `script`, on `network`
    /// (bridge mode, with `ports`) when given, else with only `lo`. The lease gives the
    /// address back when dropped.
    pub fn container(
        &self,
        id: &str,
        network: Option<&str>,
        ports: &[&str],
        script: &str,
    ) -> Result<(HeldContainer, Option<Lease>), Box<dyn std::error::Error>> {
        let mut spec = ContainerSpec::new(rootfs::default_rootfs()?, ["/bin/sh", "-c", script])
            .namespaces(Namespaces::container_default().with(Namespace::Network))
            .hostname(id);
        let lease = match network {
            Some(network) => {
                let request = Request {
                    network: network.to_owned(),
                    names: vec![id.to_owned()],
                    ports: ports
                        .iter()
                        .map(|p| p.parse::<PortMapping>())
                        .collect::<Result<_, _>>()?,
                    dns: Vec::new(),
                };
                let lease = vessel::network::attach::lease(id, &request, None)?;
                spec.network = Some(lease.attachment().clone());
                Some(lease)
            }
            None => None,
        };
        Ok((HeldContainer::start(&spec)?, lease))
    }

    /// `program ARGS` on the scratch host, its stdout (an error if it fails).
    pub fn host(&self, program: &str, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
        let out = Command::new(program).args(args).output()?;
        if !out.status.success() {
            return Err(format!(
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
