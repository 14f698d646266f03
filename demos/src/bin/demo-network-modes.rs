//! # Lesson: docker's four network modes, side by side
//!
//! Which network namespace a container gets, and what is plugged into it:
//!
//! - **host**: the host's own namespace — every device, route and port of the host;
//! - **none**: a new namespace with only `lo`;
//! - **bridge**: a new namespace with `lo` and `eth0`, one end of a veth pair whose
//!   other end is plugged into a bridge; an address and a default route via the bridge;
//! - **container:OTHER**: OTHER's namespace, joined with `setns` — same devices, same
//!   address, and the same `lo`, so a service OTHER binds to 127.0.0.1 is reachable.
//!
//! The lesson runs in a scratch network namespace playing the host.

use std::io::Write;

use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, Namespace, Namespaces, rootfs};
use vessel_demos::net_lab::NetLab;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-network-modes";

/// What each container prints: its devices, its default route, then whether it reaches
/// the bridge container's service on 10.209.0.2:80 and a service on its own 127.0.0.1:81.
const LOOK: &str = "echo $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort); \
    ip route | grep default || echo 'no default route'; \
    echo x | nc -w 2 10.209.0.2 80 >/dev/null 2>&1 && echo reaches-bridge || echo not-bridge; \
    echo x | nc -w 2 127.0.0.1 81 >/dev/null 2>&1 && echo reaches-lo-81 || echo not-lo-81; read _";

/// The bridge container also serves port 80 on eth0 and port 81 on its loopback only.
const SERVE: &str = "mkdir -p /www && echo hi > /www/index.html && httpd -p 80 -h /www && \
    httpd -p 127.0.0.1:81 -h /www && ";

fn main() {
    Lesson::run(
        NAME,
        "host, none, bridge and container: four answers to which namespace",
        run,
    )
}

struct Seen {
    devices: String,
    route: String,
    bridge: bool,
    lo81: bool,
}

fn look(held: &mut HeldContainer) -> std::io::Result<Seen> {
    Ok(Seen {
        devices: held.next_line()?,
        route: held.next_line()?.trim().to_owned(),
        bridge: held.next_line()? == "reaches-bridge",
        lo81: held.next_line()? == "reaches-lo-81",
    })
}

fn show(lesson: &Lesson, mode: &str, seen: &Seen) {
    lesson.see(&format!("{mode:<9} devices"), &seen.devices);
    lesson.see(&format!("{mode:<9} route"), &seen.route);
    lesson.see(
        &format!("{mode:<9} reaches"),
        format!(
            "10.209.0.2:80 {}, its own 127.0.0.1:81 {}",
            if seen.bridge { "yes" } else { "no" },
            if seen.lo81 { "yes" } else { "no" }
        ),
    );
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("move into a scratch network namespace that plays the host");
    lesson.syscall("unshare(CLONE_NEWNET); lo up");
    let lab = NetLab::enter(NAME)?;
    let rootfs = rootfs::default_rootfs()?;

    lesson.step("bridge: a new namespace, a veth pair, an address from the bridge's subnet");
    lesson.syscall("clone3(CLONE_NEWNET); RTM_NEWLINK veth (peer eth0 in the child's namespace); RTM_NEWADDR; RTM_NEWROUTE default via 10.209.0.1");
    let (mut bridge, lease) =
        lab.container("bridged", Some("bridge"), &[], &format!("{SERVE}{LOOK}"))?;
    let bridged = look(&mut bridge)?;
    show(lesson, "bridge", &bridged);
    lesson.claim(
        "bridge: lo and eth0, a default route via the bridge",
        bridged.devices == "eth0 lo"
            && bridged.route.starts_with("default via 10.209.0.1 dev eth0"),
    );

    lesson.step("host: no network namespace of its own");
    lesson.syscall("clone3 without CLONE_NEWNET");
    let spec = ContainerSpec::new(&rootfs, ["/bin/sh", "-c", LOOK])
        .namespaces(Namespaces::container_default().without(Namespace::Network));
    let mut host = HeldContainer::start(&spec)?;
    let hosted = look(&mut host)?;
    show(lesson, "host", &hosted);
    let lab_devices = lab.host(
        "sh",
        &[
            "-c",
            "echo $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)",
        ],
    )?;
    lesson.claim(
        "host: the same devices as the host (the bridge and the container's veth end included)",
        hosted.devices == lab_devices.trim() && hosted.devices.contains("vessel0"),
    );
    lesson.claim(
        "host: reaches the bridged container through the bridge",
        hosted.bridge,
    );

    lesson.step("none: a new namespace with only lo");
    lesson.syscall("clone3(CLONE_NEWNET); ioctl(SIOCSIFFLAGS, IFF_UP) on lo");
    let (mut none, _) = lab.container("alone", None, &[], LOOK)?;
    let alone = look(&mut none)?;
    show(lesson, "none", &alone);
    lesson.claim(
        "none: only lo, no route, reaches nobody",
        alone.devices == "lo" && alone.route == "no default route" && !alone.bridge && !alone.lo81,
    );

    lesson.step("container:bridged: join the bridged container's namespace");
    lesson.syscall(
        "open(/proc/PID/ns/net); in the child, setns(fd, CLONE_NEWNET) instead of a new one",
    );
    let pid = bridge.running().pid();
    let mut spec = ContainerSpec::new(&rootfs, ["/bin/sh", "-c", LOOK])
        .namespaces(Namespaces::container_default().without(Namespace::Network));
    spec.join_namespaces
        .push((Namespace::Network, format!("/proc/{pid}/ns/net").into()));
    let mut joined = HeldContainer::start(&spec)?;
    let shared = look(&mut joined)?;
    show(lesson, "container", &shared);
    lesson.claim(
        "container: the bridged container's devices and route",
        shared.devices == bridged.devices && shared.route == bridged.route,
    );
    lesson.claim(
        "container: reaches the service the bridged container bound to its own 127.0.0.1",
        shared.lo81 && !hosted.lo81,
    );

    lesson.step("let them all finish");
    for held in [&mut joined, &mut none, &mut host, &mut bridge] {
        writeln!(held.stdin())?;
    }
    for held in [joined, none, host, bridge] {
        held.release()?;
    }
    drop(lease);
    let left = lab.host("sh", &["-c", "ip -o link | grep -c ' vs' || true"])?;
    lesson.claim("no veth is left on the host", left.trim() == "0");
    Ok(())
}
