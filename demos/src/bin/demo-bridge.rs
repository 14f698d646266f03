//! # Lesson: a bridge is a software switch
//!
//! A Linux bridge forwards Ethernet frames between the devices plugged into it (its
//! *ports*), and learns, from the source address of every frame, which port each MAC
//! address lives behind: its **forwarding database** (FDB). vessel plugs the host end
//! of every container's veth pair into one (`vessel0` for the default network); the
//! containers are then on one Ethernet segment, and reach each other directly.
//!
//! Three containers on the default bridge ping each other; the lesson reads the
//! bridge's ports and its forwarding table, and finds each container's MAC behind its
//! own port. It runs in a scratch network namespace playing the host.

use std::io::Write;

use vessel_demos::net_lab::NetLab;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-bridge";

/// Print the MAC, then (after the lesson's go) ping the other two, then wait.
const SCRIPT: &str = "cat /sys/class/net/eth0/address; read _; \
    for ip in 10.209.0.2 10.209.0.3 10.209.0.4; do \
      ping -c 1 -W 2 $ip >/dev/null && echo \"ok $ip\" || echo \"lost $ip\"; done; read _";

fn main() {
    Lesson::run(
        NAME,
        "a bridge forwards frames between its ports and learns who is where",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("move into a scratch network namespace that plays the host");
    lesson.syscall("unshare(CLONE_NEWNET); lo up");
    let lab = NetLab::enter(NAME)?;

    lesson.step("start three containers on the default network");
    lesson.syscall("for each: RTM_NEWLINK veth vsNAME/eth0; RTM_SETLINK vsNAME master vessel0 up");
    let mut containers = Vec::new();
    let mut macs = Vec::new();
    for name in ["c1", "c2", "c3"] {
        let (mut held, lease) = lab.container(name, Some("bridge"), &[], SCRIPT)?;
        macs.push(held.next_line()?);
        containers.push((name, held, lease));
    }
    let ports = bridge_ports(&lab)?;
    let ports: Vec<&str> = ports.split_whitespace().collect();
    lesson.see(
        "the bridge's ports (ip link show master vessel0)",
        ports.join(" "),
    );
    lesson.claim(
        "each container's host end is a port of vessel0",
        ports == ["vsc1", "vsc2", "vsc3"],
    );

    lesson.step("each container pings the other two (and itself)");
    lesson.syscall(
        "ping: ARP who-has 10.209.0.X → flooded to every port; the answer comes back on one",
    );
    let mut all = true;
    for (name, held, _) in &mut containers {
        writeln!(held.stdin())?;
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(held.next_line()?);
        }
        all &= answers.iter().all(|a| a.starts_with("ok "));
        lesson.see(name, answers.join(", "));
    }
    lesson.claim(
        "every container reaches every other one over the bridge",
        all,
    );

    lesson.step("read the bridge's forwarding database");
    lesson.syscall("bridge fdb show br vessel0 (RTM_GETNEIGH, family AF_BRIDGE)");
    let fdb = lab.host("bridge", &["fdb", "show", "br", "vessel0"])?;
    let mut learned = true;
    for ((name, _, _), mac) in containers.iter().zip(&macs) {
        let line = fdb
            .lines()
            .find(|l| l.starts_with(mac.as_str()))
            .unwrap_or("not learned")
            .trim()
            .to_owned();
        lesson.see(&format!("{name}'s MAC"), &line);
        learned &= line.contains(&format!("dev vs{name} master vessel0"));
    }
    lesson.claim(
        "each container's MAC was learned behind its own port",
        learned,
    );

    lesson.step("let them finish: their ports leave the bridge");
    for (_, held, _) in &mut containers {
        writeln!(held.stdin())?;
    }
    for (_, held, lease) in containers {
        held.release()?;
        drop(lease);
    }
    let ports = bridge_ports(&lab)?;
    lesson.claim("the bridge has no port left", ports.trim().is_empty());
    Ok(())
}

/// The bridge's ports, by name. (Not `/sys/class/net/vessel0/brif`: this process's
/// `/sys` was mounted in the machine's network namespace and shows its devices.)
fn bridge_ports(lab: &NetLab) -> Result<String, Box<dyn std::error::Error>> {
    lab.host(
        "sh",
        &[
            "-c",
            "ip -o link show master vessel0 | cut -d: -f2 | cut -d@ -f1 | tr -d ' '",
        ],
    )
}
