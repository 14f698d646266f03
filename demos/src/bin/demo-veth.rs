//! # Lesson: a veth pair is a cable between two namespaces
//!
//! A veth pair is two network devices joined back to back: a frame sent into one comes
//! out of the other. Created with its two ends in two network namespaces, it is the
//! cable between them. Each end knows its peer by the peer's interface index *in the
//! other namespace* — `ip link` shows it as `NAME@ifN`.
//!
//! vessel makes the pair with one rtnetlink request (`RTM_NEWLINK`, kind `veth`, with
//! the peer's namespace given as a file descriptor), so the container's end is born in
//! the container and never appears on the host. The lesson does the same by hand
//! through vessel's netlink code, addresses both ends and pings across, in a scratch
//! network namespace that plays the host.

use std::io::Write;

use ipnet::Ipv4Net;
use vessel::network::netlink::Netlink;
use vessel::network::{address, link, netns};
use vessel_demos::net_lab::NetLab;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-veth";

/// Wait for the cable, then show this end and ping the other.
const SCRIPT: &str = "read _; echo peer0@if$(cat /sys/class/net/peer0/iflink); \
    ping -c 1 -W 2 10.201.0.1 >/dev/null && echo ping-ok || echo ping-lost; read _";

fn main() {
    Lesson::run(
        NAME,
        "a veth pair joins two network namespaces like a cable",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("move into a scratch network namespace that plays the host");
    lesson.syscall("unshare(CLONE_NEWNET); lo up");
    let lab = NetLab::enter(NAME)?;

    lesson.step("start a container with a network namespace of its own (only lo)");
    lesson.syscall("clone3(CLONE_NEWNET)");
    let (mut held, _) = lab.container("cable", None, &[], SCRIPT)?;

    lesson.step("one request makes the pair: host0 here, peer0 born inside the container");
    lesson.syscall(
        "RTM_NEWLINK ifname=host0 kind=veth peer={ifname=peer0, IFLA_NET_NS_FD=/proc/PID/ns/net}",
    );
    let ns = netns::of_pid(held.running().pid())?;
    let mut host = Netlink::open()?;
    link::create_veth(&mut host, "host0", "peer0", std::os::fd::AsFd::as_fd(&ns))?;
    let host_index = link::index_of(&mut host, "host0")?.ok_or("host0 is missing")?;
    let mut inside = netns::socket_in(&ns)?;
    let peer_index = link::index_of(&mut inside, "peer0")?.ok_or("peer0 is missing")?;
    let here = link::names(&mut host)?;
    let there = link::names(&mut inside)?;
    lesson.see("devices on the host side", here.join(" "));
    lesson.see("devices in the container", there.join(" "));
    lesson.claim(
        "each side sees its own end only",
        here.contains(&"host0".to_owned())
            && !here.contains(&"peer0".to_owned())
            && there == ["lo", "peer0"],
    );

    lesson.step("address both ends (a /30: two hosts) and bring them up");
    lesson.syscall("RTM_NEWADDR 10.201.0.1/30 dev host0; in the container RTM_NEWADDR 10.201.0.2/30 dev peer0; RTM_SETLINK up");
    address::add(
        &mut host,
        host_index,
        Ipv4Net::new([10, 201, 0, 1].into(), 30)?,
        "host0",
    )?;
    link::up(&mut host, host_index, "host0")?;
    address::add(
        &mut inside,
        peer_index,
        Ipv4Net::new([10, 201, 0, 2].into(), 30)?,
        "peer0",
    )?;
    link::up(&mut inside, peer_index, "peer0")?;

    lesson.step("look at the pair from both sides, and ping across");
    writeln!(held.stdin())?;
    let inner = held.next_line()?;
    let outer = lab.host(
        "sh",
        &["-c", "ip -o link show host0 | cut -d: -f2 | tr -d ' '"],
    )?;
    lesson.see("from the host", outer.trim());
    lesson.see("from the container", &inner);
    lesson.claim(
        "each end names the other by its index in the other namespace (NAME@ifN)",
        outer.trim() == format!("host0@if{peer_index}") && inner == format!("peer0@if{host_index}"),
    );
    let ping = held.next_line()?;
    lesson.see("container → 10.201.0.1", &ping);
    lesson.claim(
        "the container reaches the host's end of the cable",
        ping == "ping-ok",
    );
    let back = lab.host(
        "sh",
        &[
            "-c",
            "busybox ping -c 1 -W 2 10.201.0.2 >/dev/null && echo ping-ok || echo ping-lost",
        ],
    )?;
    lesson.see("host → 10.201.0.2", back.trim());
    lesson.claim(
        "and the host reaches the container's",
        back.trim() == "ping-ok",
    );

    lesson.step("the container ends: its namespace goes, and the whole pair with it");
    lesson.syscall(
        "the last process leaves → the namespace is destroyed → peer0 deleted → host0 deleted",
    );
    writeln!(held.stdin())?;
    held.release()?;
    drop(ns);
    drop(inside);
    // The namespace is dismantled by a kernel worker: wait (bounded) for host0 to go.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut gone = false;
    while std::time::Instant::now() < deadline {
        if link::index_of(&mut host, "host0")?.is_none() {
            gone = true;
            break;
        }
        std::thread::yield_now();
    }
    lesson.claim("host0 went with the container's end", gone);
    Ok(())
}
