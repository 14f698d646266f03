//! Network namespace: a container with no network configured has only `lo`.

use super::support::report_of;
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::host;

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
    ensure(report.ns["net"] != host::ns("net"), || {
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
    let report = report_of(ctx, &[])?;
    ensure(report.routes == 0, || {
        format!("{} IPv4 routes inside", report.routes)
    })
}
