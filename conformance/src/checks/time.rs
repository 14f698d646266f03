//! Time: a container shares the host's clocks unless it has a time namespace, and even
//! then only CLOCK_MONOTONIC and CLOCK_BOOTTIME move; the wall clock never does.
//!
//! No tolerance is needed: the host reads its clock just before and just after asking
//! the probe, so the probe's reading (less the offset) must lie between the two.

use serde_json::Value;
use vessel::namespaces::time::TimeOffsets;

use super::support::{held, int};
use crate::check::{Check, Ctx, Needs, Outcome, ensure};
use crate::host::clock_ns;
use crate::runtime::{Request, Session, vessel as adapter};

const SECOND: i64 = 1_000_000_000;

pub const CHECKS: [Check; 3] = [
    Check {
        area: "time",
        name: "realtime-is-the-hosts",
        claim: "The wall clock (CLOCK_REALTIME) inside is the host's: no namespace can move it.",
        needs: &[],
        run: realtime_is_the_hosts,
    },
    Check {
        area: "time",
        name: "shared-without-timens",
        claim: "Without a time namespace, CLOCK_MONOTONIC and CLOCK_BOOTTIME inside are the host's.",
        needs: &[],
        run: shared_without_timens,
    },
    Check {
        area: "time",
        name: "offsets-applied",
        claim: "In a time namespace, CLOCK_MONOTONIC and CLOCK_BOOTTIME are shifted by exactly the offsets asked for, and the wall clock is not.",
        needs: &[Needs::VesselApi, Needs::TimeNamespaces],
        run: offsets_applied,
    },
];

/// Asks the holding probe for its clocks between two readings of the host's.
fn bracketed(session: &mut Session) -> Result<(Value, [(i64, i64); 3]), String> {
    let clocks = [
        libc::CLOCK_REALTIME,
        libc::CLOCK_MONOTONIC,
        libc::CLOCK_BOOTTIME,
    ];
    let before = clocks.map(clock_ns);
    let inside = session.ask("clocks", "clocks")?;
    let after = clocks.map(clock_ns);
    Ok((inside, [0, 1, 2].map(|i| (before[i], after[i]))))
}

/// Fails unless `field` of `inside`, less `offset` seconds, lies within `range`.
fn within(inside: &Value, field: &str, offset: i64, range: (i64, i64)) -> Outcome {
    let value = int(inside, field)? - offset * SECOND;
    ensure(range.0 <= value && value <= range.1, || {
        format!(
            "{field} inside less {offset} s is {value}, the host's was {}..{} meanwhile",
            range.0, range.1
        )
    })
}

fn realtime_is_the_hosts(ctx: &Ctx) -> Outcome {
    let (mut session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    let (inside, [realtime, _, _]) = bracketed(&mut session)?;
    session.finish()?;
    within(&inside, "realtime_ns", 0, realtime)
}

fn shared_without_timens(ctx: &Ctx) -> Outcome {
    let (mut session, report) = held(ctx, Request::probe::<&str>(&[]))?;
    let (inside, [_, monotonic, boottime]) = bracketed(&mut session)?;
    session.finish()?;
    ensure(report.ns["time"] == crate::host::ns("time"), || {
        "a time namespace was created without being asked for".to_owned()
    })?;
    within(&inside, "monotonic_ns", 0, monotonic)?;
    within(&inside, "boottime_ns", 0, boottime)
}

fn offsets_applied(ctx: &Ctx) -> Outcome {
    let offsets = TimeOffsets {
        monotonic: 86_400,
        boottime: 3_600,
    };
    let request = Request::probe(&["report", "hold"]);
    let spec = adapter::spec_for(ctx.world, &request).time_offsets(offsets);
    let mut session = adapter::start_spec(&spec)?;
    let report = session.next("report")?;
    let (inside, [realtime, monotonic, boottime]) = bracketed(&mut session)?;
    session.finish()?;
    ensure(
        report["ns"]["time"] != crate::host::ns("time").as_str(),
        || "no time namespace of its own".to_owned(),
    )?;
    within(&inside, "monotonic_ns", offsets.monotonic, monotonic)?;
    within(&inside, "boottime_ns", offsets.boottime, boottime)?;
    within(&inside, "realtime_ns", 0, realtime)
}
