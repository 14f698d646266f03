//! # Lesson: port mapping is DNAT
//!
//! `vessel run -p 8080:80` does not open a port on the host: no process listens on
//! 8080. It adds one nftables rule that rewrites the *destination* of packets for the
//! host's port 8080 to the container's address and port 80 (DNAT); connection
//! tracking rewrites the answers back. The rule is reached from two hooks: `prerouting`,
//! for packets that arrive from elsewhere, and `output`, for connections the host makes
//! itself — a rule in `prerouting` alone never sees a connection to 127.0.0.1:8080.
//!
//! The lesson runs in a scratch network namespace playing the host, with a tiny busybox
//! httpd in a container on vessel's default bridge.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use vessel_demos::net_lab::NetLab;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-port-mapping";
const SERVER: &str = "mkdir -p /www && echo hello-from-the-container > /www/index.html && \
    httpd -p 80 -h /www && echo listening; read _";

fn main() {
    Lesson::run(
        NAME,
        "-p 8080:80 is one DNAT rule, reached from prerouting and output",
        run,
    )
}

fn get(port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("move into a scratch network namespace that plays the host");
    lesson.syscall("unshare(CLONE_NEWNET); lo up; ip_forward=1 (in the scratch namespace only)");
    let lab = NetLab::enter(NAME)?;

    lesson.step("start a web server in a container on the default bridge, with -p 8080:80");
    lesson.syscall("veth pair, eth0 10.209.0.2/16 in the container; nft add rule ip vessel ports tcp dport 8080 dnat to 10.209.0.2:80");
    let (mut web, lease) = lab.container("web", Some("bridge"), &["8080:80"], SERVER)?;
    let ready = web.next_line()?;
    lesson.claim(
        "the server listens on port 80 inside the container",
        ready == "listening",
    );
    let listening = lab.host("sh", &["-c", "cat /proc/net/tcp | awk 'NR>1 {print $2}'"])?;
    lesson.claim(
        "nothing listens on port 8080 on the host (0x1F90)",
        !listening.contains(":1F90"),
    );

    lesson.step("read vessel's nftables table: the DNAT rule and the two hooks that reach it");
    lesson.syscall("nft list table ip vessel");
    let table = lab.host("nft", &["list", "table", "ip", "vessel"])?;
    let rule = table
        .lines()
        .map(str::trim)
        .find(|l| l.contains("dnat to"))
        .unwrap_or_default()
        .to_owned();
    lesson.see("the rule", &rule);
    lesson.claim(
        "one rule rewrites host port 8080 to the container's 10.209.0.2:80, and names the container",
        rule == "tcp dport 8080 dnat to 10.209.0.2:80 comment \"web\"",
    );
    let jumps: Vec<&str> = table
        .lines()
        .map(str::trim)
        .filter(|l| {
            (l.starts_with("type nat hook") && !l.contains("postrouting"))
                || l.contains("jump ports")
        })
        .collect();
    for line in &jumps {
        lesson.see("hook", line);
    }
    lesson.claim(
        "both prerouting (other hosts) and output (this host's own connections) jump to it",
        table.contains("hook prerouting")
            && table.contains("hook output")
            && table.matches("fib daddr type local jump ports").count() == 2,
    );

    lesson.step("connect to the host's own loopback, port 8080");
    lesson.syscall("connect(127.0.0.1:8080): output chain DNAT → 10.209.0.2:80; route_localnet lets 127.0.0.1 leave by the bridge; masquerade gives it the bridge's address");
    let answer = get(8080)?;
    let body = answer.lines().last().unwrap_or_default().to_owned();
    lesson.see("answer", &body);
    lesson.claim(
        "the container answered a connection to the host's loopback",
        body == "hello-from-the-container",
    );

    lesson.step("stop the container: its address and its rule go with it");
    lesson.syscall("nft delete rule ip vessel ports handle N (found by its comment)");
    writeln!(web.stdin())?;
    let status = web.release()?;
    lesson.see("exit", status);
    drop(lease);
    let table = lab.host("nft", &["list", "table", "ip", "vessel"])?;
    lesson.claim("no DNAT rule is left", !table.contains("dnat to"));
    let refused = get(8080).is_err();
    lesson.claim("port 8080 answers no more", refused);
    Ok(())
}
