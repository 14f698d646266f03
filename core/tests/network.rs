//! docker's network modes, end to end: every test runs vessel inside a network
//! namespace of its own ([`TestNetns`]), where it may turn forwarding on and send
//! packets, and checks at the end that nothing of its containers is left there (no
//! veth, no address in use, no port rule, no record).

use std::os::fd::AsRawFd;
use std::process::{Child, Output, Stdio};

use vessel::sys::crash::HOLD_ENV;
use vessel::test_support::{BOUND, BoundedLines, TestNetns};

const VESSEL: &str = env!("CARGO_BIN_EXE_vessel");

/// An HTTP GET of /index.html with busybox's nc; prints the answer.
fn get(address: &str, port: u16) -> String {
    format!("printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {address} {port}")
}

/// The same, inside a container (busybox is the default rootfs's shell).
fn get_inside(address: &str, port: u16) -> String {
    format!("printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {address} {port}")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(ns: &TestNetns, script: &str) -> String {
    let out = ns.sh(script);
    assert!(
        out.status.success(),
        "{script}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn vessel(ns: &TestNetns, args: &str) -> Output {
    ns.sh(&format!("{VESSEL} {args}"))
}

fn vessel_ok(ns: &TestNetns, args: &str) -> String {
    ok(ns, &format!("{VESSEL} {args}"))
}

/// `vessel run -d --name NAME OPTIONS` of a busybox httpd serving `body` on port 80
/// (at `listen`), returning once it listens: the container says so in its log, which
/// `logs -f` follows (no sleep, no polling).
fn start_server(ns: &TestNetns, name: &str, options: &str, listen: &str, body: &str) {
    let script = format!(
        "mkdir -p /www && echo {body} > /www/index.html && httpd -p {listen} -h /www && echo listening && exec sleep 100000"
    );
    vessel_ok(
        ns,
        &format!("run -d --name {name} {options} -- sh -c '{script}'"),
    );
    let mut follower = ns
        .command(VESSEL)
        .args(["logs", "-f", name])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = BoundedLines::new(follower.stdout.take().unwrap(), BOUND).next_line();
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(
        line.unwrap().as_deref(),
        Some("listening"),
        "{name} did not start"
    );
}

// ANCHOR: done_when_port
#[test]
fn a_published_port_answers_on_loopback_and_from_another_namespace() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    let client = ns.client().unwrap();
    start_server(&ns, "web", "-p 8080:80", "80", "hello-from-web");
    // The host's own loopback: the output chain's DNAT, with route_localnet.
    assert!(ok(&ns, &get("127.0.0.1", 8080)).contains("hello-from-web"));
    // Another namespace, through the host's address: the prerouting chain's DNAT.
    assert!(ok(&client, &get("192.0.2.1", 8080)).contains("hello-from-web"));
    // The rule names the container, and goes with it.
    let rules = ns.nft_rules();
    assert!(
        rules.contains("tcp dport 8080 dnat to 10.209.0.2:80"),
        "{rules}"
    );
    vessel_ok(&ns, "rm -f web");
    ns.assert_clean();
    assert!(
        !client
            .sh(&get("192.0.2.1", 8080))
            .stdout
            .starts_with(b"HTTP")
    );
}
// ANCHOR_END: done_when_port

#[test]
fn a_port_bound_to_one_host_address_answers_only_there() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    let client = ns.client().unwrap();
    start_server(&ns, "only", "-p 127.0.0.1:8081:80", "80", "only-loopback");
    assert!(ok(&ns, &get("127.0.0.1", 8081)).contains("only-loopback"));
    assert!(!text(&client.sh(&get("192.0.2.1", 8081)).stdout).contains("only-loopback"));
    vessel_ok(&ns, "rm -f only");
    ns.assert_clean();
}

// ANCHOR: done_when_names
#[test]
fn containers_on_one_network_reach_each_other_by_name_and_no_other_network() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    vessel_ok(&ns, "network create app");
    vessel_ok(&ns, "network create other");
    start_server(&ns, "a1", "--network app", "80", "hello-a1");
    start_server(&ns, "o1", "--network other", "80", "hello-o1");
    // A peer that joins later is added to a1's /etc/hosts.
    vessel_ok(&ns, "run -d --name a2 --network app -- sleep 100000");
    let hosts = vessel_ok(&ns, "exec a1 cat /etc/hosts");
    assert!(hosts.lines().any(|l| l.ends_with(" a2")), "{hosts}");
    let by_name = vessel_ok(&ns, &format!("exec a2 sh -c \"{}\"", get_inside("a1", 80)));
    assert!(by_name.contains("hello-a1"), "{by_name}");
    // From the other network, neither the name nor the address reaches a1.
    let inspect = vessel_ok(&ns, "network inspect app");
    let json: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let a1_ip = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["names"].as_array().unwrap().iter().any(|n| n == "a1"))
        .map(|c| c["ip"].as_str().unwrap().to_owned())
        .unwrap();
    let across = vessel(
        &ns,
        &format!("exec o1 sh -c \"{}\"", get_inside(&a1_ip, 80)),
    );
    assert!(
        !text(&across.stdout).contains("hello-a1"),
        "other network reached a1"
    );
    let name = vessel(&ns, "exec o1 grep -c a1 /etc/hosts");
    assert_eq!(text(&name.stdout).trim(), "0");
    // The same address is reachable from a1's own network (the drop is the isolation).
    let same = vessel_ok(
        &ns,
        &format!("exec a2 sh -c \"{}\"", get_inside(&a1_ip, 80)),
    );
    assert!(same.contains("hello-a1"));
    // A network in use cannot go.
    let refused = vessel(&ns, "network rm app");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("in use"),
        "{}",
        text(&refused.stderr)
    );
    vessel_ok(&ns, "rm -f a1 a2 o1");
    vessel_ok(&ns, "network rm app other");
    ns.assert_clean();
    let links = ns.links();
    assert!(
        !links.iter().any(|l| l == "vessel1" || l == "vessel2"),
        "{links:?}"
    );
    assert!(!ns.nft_rules().contains("net:app"));
}
// ANCHOR_END: done_when_names

// ANCHOR: done_when_container_mode
#[test]
fn container_mode_shares_the_other_containers_loopback_and_address() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    start_server(&ns, "web", "", "127.0.0.1:81", "lo-only");
    let shared = vessel_ok(
        &ns,
        &format!(
            "run --rm --network container:web -- sh -c \"{}; ip -o -4 addr show eth0\"",
            get_inside("127.0.0.1", 81)
        ),
    );
    assert!(shared.contains("lo-only"), "{shared}");
    assert!(shared.contains("inet 10.209.0.2/16"), "{shared}");
    // A bridge container of its own does not see web's loopback service.
    let apart = vessel(
        &ns,
        &format!("run --rm -- sh -c \"{}\"", get_inside("127.0.0.1", 81)),
    );
    assert!(!text(&apart.stdout).contains("lo-only"));
    let refused = vessel(&ns, "run --rm --network container:nosuch -- true");
    assert_eq!(refused.status.code(), Some(125));
    vessel_ok(&ns, "rm -f web");
    ns.assert_clean();
}
// ANCHOR_END: done_when_container_mode

#[test]
fn bridge_mode_gives_eth0_an_address_a_default_route_and_init_files() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    let out = vessel_ok(
        &ns,
        "run --rm --name box --dns 192.0.2.53 -- sh -c 'ip -o -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; ip -o link show lo'",
    );
    assert!(out.contains("inet 10.209.0.2/16"), "{out}");
    assert!(out.contains("default via 10.209.0.1 dev eth0"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("10.209.0.2\t") && l.ends_with(" box")),
        "{out}"
    );
    assert!(out.contains("nameserver 192.0.2.53"), "{out}");
    assert!(out.contains("LOWER_UP"), "lo is up: {out}");
    // none: only lo; -p without a bridge is refused, not ignored.
    let none = vessel_ok(&ns, "run --rm --network none -- cat /proc/net/dev");
    assert!(!none.contains("eth0"), "{none}");
    let refused = vessel(&ns, "run --rm --network none -p 80:80 -- true");
    assert_eq!(refused.status.code(), Some(125));
    assert!(text(&refused.stderr).contains("-p needs a bridge network"));
    ns.assert_clean();
}

#[test]
fn bad_network_options_say_what_to_do() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    for (args, message) in [
        (
            "network create --subnet 10.209.1.0/24 x",
            "overlaps network \"bridge\"",
        ),
        (
            "network create --subnet 8.8.8.0/24 x",
            "not a private range",
        ),
        ("network create --subnet 10.77.0.0/31 x", "too small"),
        ("network create bridge", "reserved"),
        ("network rm bridge", "cannot be removed"),
        ("network rm nosuch", "no network named \"nosuch\""),
        (
            "run --rm --network nosuch -- true",
            "no network named \"nosuch\"",
        ),
        (
            "run --rm -p 80 -- true",
            "expected [IP:]HOSTPORT:CONTAINERPORT",
        ),
    ] {
        let out = vessel(&ns, args);
        assert_eq!(out.status.code(), Some(125), "{args}");
        assert!(
            text(&out.stderr).contains(message),
            "{args}: {}",
            text(&out.stderr)
        );
    }
    ns.assert_clean();
}

/// Starts `vessel ARGS` in `ns` with crash point `point` armed; returns once a process
/// of it holds there, with that pid.
fn hold(ns: &TestNetns, point: &str, args: &[&str]) -> (Child, libc::pid_t) {
    let (read, write) = nix::unistd::pipe().unwrap();
    let child = ns
        .command(VESSEL)
        .args(args)
        .env(HOLD_ENV, format!("{point}:{}", write.as_raw_fd()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(write);
    let line = BoundedLines::new(read, BOUND)
        .next_line()
        .unwrap()
        .unwrap_or_default();
    let pid = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{args:?} never reached {point}"));
    (child, pid)
}

// ANCHOR: kill_anywhere
#[test]
fn kill_9_at_any_point_of_a_start_leaves_nothing_after_rm() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    let points = [
        "run-recorded",
        "net-leased",
        "net-attached",
        "run-cloned",
        "run-spawned",
        "run-started",
    ];
    for (n, point) in points.iter().enumerate() {
        for detach in [false, true] {
            let name = format!("k{n}{}", if detach { "d" } else { "f" });
            let mut args = vec!["run", "--name", &name, "-p", "9000:80"];
            if detach {
                args.push("-d");
            }
            args.extend(["--", "sleep", "100000"]);
            let (mut child, pid) = hold(&ns, point, &args);
            // SAFETY: kill has no memory preconditions; pid is the process holding
            // at the point (the CLI, or the shim it forked).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = child.wait();
            // The record may be gone already: a `run -d` whose shim died removes it.
            let rm = vessel(&ns, &format!("rm -f {name}"));
            assert!(
                rm.status.success() || text(&rm.stderr).contains("no container"),
                "{point}: {}",
                text(&rm.stderr)
            );
            ns.assert_clean();
        }
    }
}
// ANCHOR_END: kill_anywhere

#[test]
fn a_crashed_container_is_reclaimed_by_the_next_start_and_many_runs_leak_nothing() {
    vessel::require_root!();
    let ns = TestNetns::new().unwrap();
    // The supervisor and its container both die without a word: the record stays
    // (as `vessel ps -a` shows it), but the address is taken back at the next start.
    let (mut child, pid) = hold(
        &ns,
        "net-attached",
        &["run", "--rm", "-p", "9001:80", "--", "sleep", "100000"],
    );
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = child.wait();
    assert_eq!(ns.allocations().len(), 1);
    vessel_ok(&ns, "run --rm -- true");
    assert!(
        ns.allocations().is_empty(),
        "not reclaimed: {:?}",
        ns.allocations()
    );
    assert!(!ns.nft_rules().contains("dnat to"));
    ok(&ns, &format!("{VESSEL} ps -aq | xargs -r {VESSEL} rm -f"));
    // A hundred starts, every other one with a port: nothing accumulates.
    ok(
        &ns,
        &format!(
            "for i in $(seq 100); do if [ $((i % 2)) = 0 ]; then P='-p 9002:80'; else P=''; fi; \
             {VESSEL} run --rm $P -- true || exit 1; done"
        ),
    );
    ns.assert_clean();
}
