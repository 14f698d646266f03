//! A network namespace of a test's own, for everything that sends packets.
//!
//! The host's `net.ipv4.ip_forward` (0) and firewall are never touched: vessel runs
//! *inside* a namespace the test made (a holder process `unshare -n` started), with its
//! own `lo`, its own `ip_forward` (set to 1 there), its own vessel bridges, nftables
//! table and network state directory. When the holder dies, the namespace and
//! everything in it goes. A second namespace ([`TestNetns::client`]) plays "another
//! host": it is joined to the first by a veth pair on TEST-NET-1 (192.0.2.0/24,
//! reserved for documentation: no real host has it).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::bounded::{BOUND, BoundedLines, output_within};

/// A process holding a new network namespace open.
#[derive(Debug)]
pub struct TestNetns {
    holder: Child,
    state: PathBuf,
}

/// The programs these tests need from the host, with the Debian package of each.
const TOOLS: [(&str, &str); 4] = [
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("nft", "nftables"),
    ("busybox", "busybox-static"),
];

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The first missing tool, as a message naming its package.
pub fn missing_tool() -> Option<String> {
    TOOLS.iter().find(|(tool, _)| !on_path(tool)).map(|(tool, package)| {
        format!("`{tool}` is missing: install the Debian package {package} (cargo xtask installs it)")
    })
}

/// Panics, naming the package, if a tool is missing: a network test never skips.
pub fn require_tools() {
    if let Some(missing) = missing_tool() {
        panic!("{missing}");
    }
}

impl TestNetns {
    /// A fresh network namespace with `lo` up and forwarding on (in it only).
    pub fn new() -> io::Result<TestNetns> {
        if let Some(missing) = missing_tool() {
            return Err(io::Error::other(missing));
        }
        let mut holder = Command::new("unshare")
            .args(["--net", "--", "sh", "-c"])
            .arg("ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward && echo ready && exec sleep 100000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = holder.stdout.take().expect("piped");
        let mut lines = BoundedLines::new(std::os::fd::OwnedFd::from(stdout), BOUND);
        if lines.next_line()?.as_deref() != Some("ready") {
            let _ = holder.kill();
            let _ = holder.wait();
            return Err(io::Error::other("the namespace holder did not start"));
        }
        let state = std::env::temp_dir().join(format!(
            "vessel-netns-{}-{}",
            std::process::id(),
            holder.id()
        ));
        std::fs::create_dir_all(&state)?;
        Ok(TestNetns { holder, state })
    }

    /// The holder's pid.
    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// The namespace's vessel network state directory (`VESSEL_NET_DIR`).
    pub fn net_dir(&self) -> PathBuf {
        self.state.as_path().join("net")
    }

    /// The run directory for container records (`VESSEL_RUN_DIR`).
    pub fn run_dir(&self) -> PathBuf {
        self.state.as_path().join("run")
    }

    /// `program ARGS` inside the namespace, with vessel's state directories set.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .arg("--")
            .arg(program)
            .env("VESSEL_NET_DIR", self.net_dir())
            .env("VESSEL_RUN_DIR", self.run_dir())
            .stdin(Stdio::null());
        command
    }

    /// `sh -c script` inside the namespace, to completion (bounded).
    pub fn sh(&self, script: &str) -> Output {
        output_within(self.command("sh").args(["-c", script]), BOUND)
            .expect("the command finished within its bound")
    }

    /// A second namespace joined to this one by a veth pair: this side 192.0.2.1, the
    /// client 192.0.2.2 with its default route through this one.
    pub fn client(&self) -> io::Result<TestNetns> {
        let client = TestNetns::new()?;
        let script = format!(
            "ip link add vtest0 type veth peer name vtest1 netns {pid} && \
             ip addr add 192.0.2.1/24 dev vtest0 && ip link set vtest0 up",
            pid = client.pid()
        );
        check(self.sh(&script), &script)?;
        let script = "ip addr add 192.0.2.2/24 dev vtest1 && ip link set vtest1 up && \
                      ip route add default via 192.0.2.1";
        check(client.sh(script), script)?;
        Ok(client)
    }

    /// The namespace's interfaces, by name.
    pub fn links(&self) -> Vec<String> {
        let out = self.sh("ip -o link show | cut -d: -f2 | cut -d@ -f1");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The rules of vessel's nftables table in this namespace (`nft list table`).
    pub fn nft_rules(&self) -> String {
        String::from_utf8_lossy(&self.sh("nft list table ip vessel 2>/dev/null").stdout)
            .into_owned()
    }

    /// Where vessel's network state says addresses are in use (container ids).
    pub fn allocations(&self) -> Vec<String> {
        let path = self.net_dir().join("state.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Vec::new();
        };
        let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
        state["allocations"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|a| a["container"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails, naming them, if a container left a veth, an address, a port rule or a
    /// record in this namespace.
    pub fn assert_clean(&self) {
        let veths: Vec<String> = self
            .links()
            .into_iter()
            .filter(|l| l.starts_with("vs"))
            .collect();
        assert!(veths.is_empty(), "veths left: {veths:?}");
        let allocations = self.allocations();
        assert!(
            allocations.is_empty(),
            "addresses still in use by {allocations:?}"
        );
        let rules = self.nft_rules();
        let dnat: Vec<&str> = rules.lines().filter(|l| l.contains("dnat to")).collect();
        assert!(dnat.is_empty(), "port mappings left: {dnat:?}");
        let records = std::fs::read_dir(self.run_dir())
            .map(|d| {
                d.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(
            records,
            0,
            "container records left in {}",
            self.run_dir().display()
        );
    }

    /// The state directory (for tests that read files of their own there).
    pub fn dir(&self) -> &Path {
        &self.state
    }
}

fn check(output: Output, what: &str) -> io::Result<()> {
    if output.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    )))
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
