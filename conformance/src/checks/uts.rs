//! UTS namespace: the container's hostname is its own.

use super::support::{int, own_ns, report_of};
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::host;
use crate::runtime::Request;

pub const CHECKS: [Check; 3] = [
    Check {
        area: "uts",
        name: "own-namespace",
        claim: "The container has a UTS namespace of its own.",
        needs: &[],
        run: own_namespace,
    },
    Check {
        area: "uts",
        name: "hostname-as-asked",
        claim: "The hostname inside is the one the runtime was asked to set.",
        needs: &[],
        run: hostname_as_asked,
    },
    Check {
        area: "uts",
        name: "host-hostname-untouched",
        claim: "Changing the hostname inside leaves the host's hostname unchanged.",
        needs: &[],
        run: host_hostname_untouched,
    },
];

fn own_namespace(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(own_ns(&report, "uts"), || {
        "the container shares the host's UTS namespace".to_owned()
    })
}

fn hostname_as_asked(ctx: &Ctx) -> Outcome {
    let mut request = Request::probe(&["report"]);
    request.hostname = Some("conformance-box".to_owned());
    let (report, _) = super::support::report(ctx, &request)?;
    ensure(report.hostname == "conformance-box", || {
        format!("the hostname inside is {:?}", report.hostname)
    })
}

fn host_hostname_untouched(ctx: &Ctx) -> Outcome {
    let before = host::hostname();
    let finished = ctx.runtime.run(
        ctx.world,
        // sethostname needs CAP_SYS_ADMIN, which the default set lacks.
        &Request::probe(&["sethostname", "changed-inside", "report"]).with_capability("SYS_ADMIN"),
    )?;
    let set = finished.line("sethostname")?;
    ensure(int(set, "errno")? == 0, || {
        format!("sethostname inside failed: {set}")
    })?;
    let report = super::support::Report::from(finished.line("report")?)?;
    ensure(report.hostname == "changed-inside", || {
        format!(
            "the hostname inside is {:?} after setting it",
            report.hostname
        )
    })?;
    let after = host::hostname();
    ensure(after == before, || {
        format!("the host's hostname changed from {before:?} to {after:?}")
    })
}
