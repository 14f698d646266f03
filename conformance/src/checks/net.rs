//! Network namespace: a container with no network configured has only `lo`.

use super::support::{own_ns, report_of};
use crate::check::{Check, Ctx, Failure, Outcome, ensure};

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
    let report = report_of(ctx, &[])?;
    ensure(report.routes == 0, || {
        format!("{} IPv4 routes inside", report.routes)
    })
}
