//! docker's network modes as vessel's CLI offers them (`vessel run --network …`, `-p`,
//! `vessel network`): the reachability matrix, the isolation of `none`, and nothing
//! left behind. Each check runs vessel inside a network namespace of its own
//! ([`TestNetns`]), so no packet touches the host's network and the host's
//! `ip_forward` stays as it is. OCI runtimes have no network modes (their callers,
//! through CNI, do the wiring), so these checks are vessel-only.

use std::process::Stdio;

use vessel::test_support::{BOUND, BoundedLines, TestNetns, missing_tool};

use crate::check::{Check, Ctx, Failure, Needs, Outcome, ensure};
use crate::runtime::vessel_cli;

pub const CHECKS: [Check; 6] = [
    Check {
        area: "net",
        name: "same-network-reachable",
        claim: "Two containers on one user network reach each other by name.",
        needs: &[Needs::VesselApi],
        run: same_network,
    },
    Check {
        area: "net",
        name: "other-network-dropped",
        claim: "A container on another user network cannot reach them, by name or address.",
        needs: &[Needs::VesselApi],
        run: other_network,
    },
    Check {
        area: "net",
        name: "published-port-reachable",
        claim: "-p 8080:80 answers on the host's loopback and from another namespace.",
        needs: &[Needs::VesselApi],
        run: published_port,
    },
    Check {
        area: "net",
        name: "container-mode-shares-lo",
        claim: "--network container:NAME reaches a service NAME bound to its 127.0.0.1.",
        needs: &[Needs::VesselApi],
        run: container_mode,
    },
    Check {
        area: "net",
        name: "none-isolated",
        claim: "--network none has only lo and reaches no container.",
        needs: &[Needs::VesselApi],
        run: none_isolated,
    },
    Check {
        area: "net",
        name: "no-network-leaks",
        claim: "After rm: no veth, no leased address, no nftables rule of the container.",
        needs: &[Needs::VesselApi],
        run: no_leaks,
    },
];

/// A namespace of the check's own with vessel's CLI in it.
struct Lab {
    ns: TestNetns,
    vessel: String,
}

impl Lab {
    fn new(ctx: &Ctx) -> Result<Lab, Failure> {
        if let Some(missing) = missing_tool() {
            // A missing tool fails where skips are forbidden (CI), else skips.
            return Err(
                if std::env::var(vessel::test_support::REQUIRE_PRIVILEGED).as_deref() == Ok("1") {
                    Failure::Fail(missing)
                } else {
                    Failure::Skip(missing)
                },
            );
        }
        let binary = vessel_cli::binary()?;
        let root = vessel_cli::root(ctx.world);
        Ok(Lab {
            ns: TestNetns::new().map_err(|e| format!("a network namespace for the check: {e}"))?,
            vessel: format!("{} --root {}", binary.display(), root.display()),
        })
    }

    /// `vessel ARGS` in the namespace: (success, stdout, stderr).
    fn vessel(&self, args: &str) -> (bool, String, String) {
        let out = self.ns.sh(&format!("{} {args}", self.vessel));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &str) -> Result<String, Failure> {
        let (ok, out, err) = self.vessel(args);
        if ok {
            Ok(out)
        } else {
            Err(format!("vessel {args}: {err}").into())
        }
    }

    /// A detached busybox httpd NAME serving its name on `listen`, once it listens.
    fn server(&self, name: &str, options: &str, listen: &str) -> Result<(), Failure> {
        let script = format!(
            "mkdir -p /www && echo {name} > /www/index.html && httpd -p {listen} -h /www && echo listening && exec sleep 100000"
        );
        self.ok(&format!(
            "run -d --name {name} {options} -- sh -c '{script}'"
        ))?;
        let mut follower = self
            .ns
            .command("sh")
            .args(["-c", &format!("exec {} logs -f {name}", self.vessel)])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("vessel logs -f {name}: {e}"))?;
        let line = BoundedLines::new(follower.stdout.take().expect("piped"), BOUND).next_line();
        let _ = follower.kill();
        let _ = follower.wait();
        ensure(matches!(line, Ok(Some(ref l)) if l == "listening"), || {
            format!("{name} never said it listens: {line:?}")
        })
    }

    /// Whether `vessel run --rm OPTIONS` fetches NAME's page from `address:port`.
    fn reaches(&self, options: &str, address: &str, port: u16, expect: &str) -> bool {
        let get = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {address} {port}");
        let (_, out, _) = self.vessel(&format!("run --rm {options} -- sh -c \"{get}\""));
        out.contains(expect)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Whatever the check left running goes; the namespace goes with the holder.
        let _ = self
            .ns
            .sh(&format!("{v} ps -aq | xargs -r {v} rm -f", v = self.vessel));
    }
}

fn same_network(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    lab.ok("network create app")?;
    lab.server("a1", "--network app", "80")?;
    ensure(lab.reaches("--network app", "a1", 80, "a1"), || {
        "a container on network app did not reach a1 by name".to_owned()
    })
}

fn other_network(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    lab.ok("network create app")?;
    lab.ok("network create other")?;
    lab.server("a1", "--network app", "80")?;
    let inspect = lab.ok("network inspect app")?;
    let json: serde_json::Value =
        serde_json::from_str(&inspect).map_err(|e| format!("network inspect: {e}"))?;
    let ip = json["containers"][0]["ip"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The control: the address answers from its own network.
    ensure(lab.reaches("--network app", &ip, 80, "a1"), || {
        format!("a1 at {ip} does not answer even on its own network: the check proves nothing")
    })?;
    ensure(!lab.reaches("--network other", &ip, 80, "a1"), || {
        format!("a container on network other reached a1 at {ip}")
    })?;
    ensure(!lab.reaches("--network other", "a1", 80, "a1"), || {
        "a container on network other resolved and reached a1 by name".to_owned()
    })
}

fn published_port(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    let client = lab
        .ns
        .client()
        .map_err(|e| format!("a client namespace: {e}"))?;
    lab.server("web", "-p 8080:80", "80")?;
    let get = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3";
    let local = lab.ns.sh(&format!("{get} 127.0.0.1 8080"));
    ensure(
        String::from_utf8_lossy(&local.stdout).contains("web"),
        || "127.0.0.1:8080 on the host did not reach the container".to_owned(),
    )?;
    let remote = client.sh(&format!("{get} 192.0.2.1 8080"));
    ensure(
        String::from_utf8_lossy(&remote.stdout).contains("web"),
        || "another namespace did not reach the container through the host's port 8080".to_owned(),
    )
}

fn container_mode(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    lab.server("web", "", "127.0.0.1:81")?;
    ensure(!lab.reaches("", "127.0.0.1", 81, "web"), || {
        "a container of its own reached web's loopback: the check proves nothing".to_owned()
    })?;
    ensure(
        lab.reaches("--network container:web", "127.0.0.1", 81, "web"),
        || "--network container:web did not reach web's service on 127.0.0.1".to_owned(),
    )
}

fn none_isolated(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    lab.server("web", "", "80")?;
    ensure(lab.reaches("", "10.209.0.2", 80, "web"), || {
        "web does not answer on the bridge: the check proves nothing".to_owned()
    })?;
    ensure(
        !lab.reaches("--network none", "10.209.0.2", 80, "web"),
        || "--network none reached a container on the bridge".to_owned(),
    )?;
    let devices = lab.ok(
        "run --rm --network none -- sh -c \"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '\"",
    )?;
    ensure(devices.trim() == "lo", || {
        format!("--network none has {devices:?}")
    })
}

fn no_leaks(ctx: &Ctx) -> Outcome {
    let lab = Lab::new(ctx)?;
    lab.ok("network create app")?;
    lab.server("web", "--network app -p 8080:80", "80")?;
    lab.ok("run -d --name side -- sleep 100000")?;
    lab.ok("rm -f web side")?;
    lab.ok("network rm app")?;
    let veths: Vec<String> = lab
        .ns
        .links()
        .into_iter()
        .filter(|l| l.starts_with("vs"))
        .collect();
    ensure(veths.is_empty(), || format!("veths left: {veths:?}"))?;
    let leased = lab.ns.allocations();
    ensure(leased.is_empty(), || {
        format!("addresses still leased to {leased:?}")
    })?;
    let rules = lab.ns.nft_rules();
    ensure(
        !rules.contains("dnat to") && !rules.contains("net:app"),
        || format!("rules left:\n{rules}"),
    )
}
