//! # Lesson: the network namespace
//!
//! Network devices, addresses, routes, sockets and ports belong to a *network namespace*.
//! A new one holds a single device, `lo`, and nothing can reach it until a device is moved
//! in. The classic device for that is a **veth pair**: two virtual interfaces joined like
//! the two ends of a cable. One end stays outside, the other is moved into the container,
//! both get addresses, and packets flow. When the container's namespace goes away, its end
//! is destroyed, and with it the pair.
//!
//! To keep the machine's real network untouched, the lesson first moves itself into a
//! scratch network namespace that plays "the host", so every device and address it makes
//! lives only in namespaces it created. It uses `ip` (iproute2) for the veth pair, and a
//! TCP round trip between the two ends over a private /30.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, Namespace, Namespaces, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-netns";
const HOST_END: &str = "vsl-h0";
const CONTAINER_END: &str = "vsl-c0";
const HOST_ADDR: &str = "10.200.0.1";
const CONTAINER_ADDR: &str = "10.200.0.2";
const PORT: u16 = 7000;

/// What the container runs: list its devices, wait for the veth, address it, then talk
/// to the host side with `nc`. A step that fails ends the container at once (rather than
/// leaving it waiting on `read`), so the lesson sees the exit instead of hanging.
const SCRIPT: &str = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; echo end; \
    read _; \
    ip addr add 10.200.0.2/30 dev vsl-c0 && ip link set vsl-c0 up && echo configured \
        || { echo 'not configured'; exit 1; }; \
    echo ping | nc 10.200.0.1 7000 || exit 2; \
    read _; exit 0";

fn main() {
    Lesson::run(
        NAME,
        "a network namespace starts with only lo; a veth pair connects it",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("move this lesson into a scratch network namespace that plays the host");
    lesson
        .syscall("unshare(CLONE_NEWNET): everything below stays out of the machine's real network");
    // Opened before the move, these keep showing the machine's own namespace.
    let real_host = std::fs::read_link("/proc/self/ns/net")?;
    let mut machine_devices = File::open("/proc/self/net/dev")?;
    // SAFETY: unshare takes a flag word; only this thread's network namespace changes.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } == -1 {
        return Err(format!("unshare(CLONE_NEWNET): {}", std::io::Error::last_os_error()).into());
    }
    let scratch_host = std::fs::read_link("/proc/self/ns/net")?;
    lesson.claim(
        "the lesson's \"host\" is not the machine's network namespace",
        real_host != scratch_host,
    );

    lesson.step("start a container in a new network namespace and list its devices");
    lesson.syscall("clone3(CLONE_NEWNET|…); ioctl(SIOCSIFFLAGS, IFF_UP) on lo in the child; read /proc/net/dev");
    // `ip addr add` and `ip link set` inside need CAP_NET_ADMIN, which a container does
    // not keep unless asked (docker's default set).
    let spec = ContainerSpec::new(rootfs::default_rootfs()?, ["/bin/sh", "-c", SCRIPT])
        .namespaces(Namespaces::container_default().with(Namespace::Network))
        .add_capabilities(vessel::security::capabilities::CapSet::of(&["NET_ADMIN"]));
    let mut held = HeldContainer::start(&spec)?;
    let devices = held.lines_until("end")?;
    lesson.see("devices inside", devices.join(" "));
    lesson.claim("a new network namespace holds only lo", devices == ["lo"]);

    lesson.step("create a veth pair and move one end into the container");
    let pid = held.running().pid().to_string();
    lesson.syscall(&format!(
        "ip link add {HOST_END} type veth peer name {CONTAINER_END}"
    ));
    lesson.syscall(&format!(
        "ip link set {CONTAINER_END} netns <container pid>"
    ));
    lesson.syscall(&format!(
        "ip addr add {HOST_ADDR}/30 dev {HOST_END}; ip link set {HOST_END} up"
    ));
    ip(&[
        "link",
        "add",
        HOST_END,
        "type",
        "veth",
        "peer",
        "name",
        CONTAINER_END,
    ])?;
    ip(&["link", "set", CONTAINER_END, "netns", &pid])?;
    ip(&["addr", "add", &format!("{HOST_ADDR}/30"), "dev", HOST_END])?;
    ip(&["link", "set", HOST_END, "up"])?;
    let host_side = device_names("self")?;
    let container_side = device_names(&pid)?;
    lesson.see("devices on the host side", host_side.join(" "));
    lesson.see("devices in the container", container_side.join(" "));
    lesson.claim(
        "the container now has lo and its end of the pair; the host side keeps the other end",
        container_side == ["lo", CONTAINER_END]
            && host_side.contains(&HOST_END.to_owned())
            && !host_side.contains(&CONTAINER_END.to_owned()),
    );

    lesson.step("address the container's end, then a TCP round trip over the pair");
    lesson.syscall(&format!("inside: ip addr add {CONTAINER_ADDR}/30 dev {CONTAINER_END}; ip link set {CONTAINER_END} up"));
    lesson.syscall(&format!(
        "host side: listen on {HOST_ADDR}:{PORT}; inside: echo ping | nc {HOST_ADDR} {PORT}"
    ));
    let listener = TcpListener::bind((HOST_ADDR, PORT))?;
    writeln!(held.stdin())?;
    let configured = held.next_line()?;
    if !lesson.claim(
        "the container configured its end",
        configured == "configured",
    ) {
        let status = held.release()?;
        return Err(format!(
            "the container could not address {CONTAINER_END} (it said {configured:?}, then {status}); \
             its `ip` error is printed above"
        )
        .into());
    }
    let Some((mut conn, peer)) = accept_or_exit(&listener, held.running().pidfd())? else {
        let status = held.release()?;
        return Err(format!(
            "the container ended ({status}) without connecting to {HOST_ADDR}:{PORT}; \
             its `nc` error is printed above"
        )
        .into());
    };
    let mut received = String::new();
    conn.read_to_string(&mut received)?;
    conn.write_all(b"pong from the host side\n")?;
    drop(conn);
    let reply = held.next_line()?;
    lesson.see(
        "host side received",
        format!("{:?} from {}", received.trim(), peer.ip()),
    );
    lesson.see("container received", format!("{reply:?}"));
    lesson.claim(
        "the host side got the container's message, from the container's address",
        received == "ping\n" && peer.ip().to_string() == CONTAINER_ADDR,
    );
    lesson.claim(
        "the container got the host side's answer",
        reply == "pong from the host side",
    );

    lesson.step("let the container finish: its namespace, and the veth pair, disappear");
    lesson.syscall("the last process leaves → the kernel destroys the namespace → RTM_DELLINK for the host end");
    let index = if_index(HOST_END);
    let events = LinkEvents::subscribe()?;
    writeln!(held.stdin())?;
    let status = held.release()?;
    lesson.see("exit", status);
    // The namespace is torn down by a kernel worker after the last process exits, so wait
    // for the kernel's own notice that the host end is gone.
    let deleted = index != 0 && events.wait_for_deletion(index);
    let host_side = device_names("self")?;
    lesson.see("devices on the host side", host_side.join(" "));
    lesson.claim(
        "the host end of the pair went with the container's namespace",
        deleted && host_side == ["lo"],
    );
    let mut text = String::new();
    machine_devices.read_to_string(&mut text)?;
    let machine = parse_devices(&text);
    lesson.claim(
        "the machine's own network never saw the pair",
        !machine.iter().any(|d| d.starts_with("vsl-")),
    );
    Ok(())
}

/// Waits for a connection on `listener` or for the container's exit, whichever comes
/// first: `accept` alone would wait forever for a container that failed before `nc`.
/// `None` means the container exited without connecting.
fn accept_or_exit(
    listener: &TcpListener,
    container: std::os::fd::BorrowedFd<'_>,
) -> std::io::Result<Option<(std::net::TcpStream, std::net::SocketAddr)>> {
    use std::os::fd::AsRawFd;
    let mut fds = [
        libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        // A pidfd becomes readable when its process exits.
        libc::pollfd {
            fd: container.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: `fds` is a live array of two pollfds, and both descriptors stay open
        // for the call (the listener and the container are borrowed).
        match unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } {
            -1 if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            -1 => return Err(std::io::Error::last_os_error()),
            // A connection that came in just before the exit still counts.
            _ if fds[0].revents != 0 => return listener.accept().map(Some),
            _ => return Ok(None),
        }
    }
}

fn ip(args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let out = Command::new("ip").args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// Device names in the network namespace of `pid` (`self` for ours), from
/// `/proc/PID/net/dev`, which shows that process's namespace.
fn device_names(pid: &str) -> std::io::Result<Vec<String>> {
    Ok(parse_devices(&std::fs::read_to_string(format!(
        "/proc/{pid}/net/dev"
    ))?))
}

/// The device names of a `/proc/net/dev` text, sorted.
fn parse_devices(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_owned())
        .collect();
    names.sort();
    names
}

fn if_index(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap_or_default();
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    unsafe { libc::if_nametoindex(name.as_ptr()) }
}

/// A netlink socket that hears about links appearing and going (`RTMGRP_LINK`).
struct LinkEvents {
    fd: std::os::fd::OwnedFd,
}

impl LinkEvents {
    fn subscribe() -> std::io::Result<LinkEvents> {
        use std::os::fd::FromRawFd;
        // SAFETY: socket takes plain integers.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd == -1 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; we own it from here.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero sockaddr_nl is valid; we set the family and groups.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = libc::RTMGRP_LINK as u32;
        use std::os::fd::AsRawFd;
        // SAFETY: `addr` is a live sockaddr_nl of the size passed.
        let ret = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if ret == -1 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(LinkEvents { fd })
    }

    /// Reads link messages until one says `index` was deleted. Gives up after 10 s
    /// without any message, which only happens if the kernel never tears the pair down.
    fn wait_for_deletion(&self, index: u32) -> bool {
        use std::os::fd::AsRawFd;
        let mut buf = [0u8; 8192];
        loop {
            let mut poll = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            if unsafe { libc::poll(&mut poll, 1, 10_000) } != 1 {
                return false;
            }
            // SAFETY: `buf` is live writable memory of the length passed.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            let Ok(n) = usize::try_from(n) else {
                return false;
            };
            if deletes(&buf[..n], index) {
                return true;
            }
        }
    }
}

/// Whether a netlink datagram holds an `RTM_DELLINK` for `index`. Each message is an
/// `nlmsghdr` (len u32, type u16, flags u16, seq u32, pid u32) followed, for link
/// messages, by an `ifinfomsg` (family u8, pad u8, type u16, index i32, …).
fn deletes(mut datagram: &[u8], index: u32) -> bool {
    while datagram.len() >= 16 {
        let len = u32::from_ne_bytes(datagram[0..4].try_into().unwrap_or_default()) as usize;
        let kind = u16::from_ne_bytes(datagram[4..6].try_into().unwrap_or_default());
        if kind == libc::RTM_DELLINK && datagram.len() >= 24 {
            let link = i32::from_ne_bytes(datagram[20..24].try_into().unwrap_or_default());
            if link as u32 == index {
                return true;
            }
        }
        let step = (len + 3) & !3;
        if step == 0 || step > datagram.len() {
            break;
        }
        datagram = &datagram[step..];
    }
    false
}
