//! Network namespace: a container with no network configured has only `lo`.

use super::support::{Report, own_ns, report_of};
use crate::check::{Check, Ctx, Failure, Outcome, ensure};
use crate::runtime::Request;

pub const CHECKS: [Check; 3] = [
    Check {
        area: "net",
        name: "own-namespace",
        claim: "The container has a network namespace of its own.",
        needs: &[],
        run: own_namespace,
    },
    Check {
        area: "net",
        name: "only-lo",
        claim: "The only network interface inside is lo.",
        needs: &[],
        run: only_lo,
    },
    Check {
        area: "net",
        name: "no-host-routes",
        claim: "None of the host's routes exist inside.",
        needs: &[],
        run: no_host_routes,
    },
];

fn own_namespace(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(own_ns(&report, "net"), || {
        "the container shares the host's network namespace".to_owned()
    })
}

fn only_lo(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(report.interfaces == ["lo"], || {
        format!("interfaces inside: {:?}", report.interfaces)
    })
}

fn no_host_routes(ctx: &Ctx) -> Outcome {
    // Header line, then one line per IPv4 route of the reader's network namespace.
    let host_routes = std::fs::read_to_string("/proc/net/route")
        .map_err(|e| format!("read the host's /proc/net/route: {e}"))?
        .lines()
        .count()
        .saturating_sub(1);
    if host_routes == 0 {
        return Err(Failure::Skip(
            "the host has no IPv4 route, so none could leak (net.own-namespace still holds)"
                .to_owned(),
        ));
    }
    // A control: the probe can read the table at all, so no line means no route.
    let finished = ctx.runtime.run(
        ctx.world,
        &Request::probe(&["cat", "/proc/net/route", "report"]),
    )?;
    let table = finished.line("cat")?;
    ensure(
        table["errno"] == 0
            && table["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Iface"),
        || format!("the probe cannot read /proc/net/route inside, so it proves nothing: {table}"),
    )?;
    let report = Report::from(finished.line("report")?)?;
    ensure(report.routes == 0, || {
        format!("{} IPv4 routes inside", report.routes)
    })
}
