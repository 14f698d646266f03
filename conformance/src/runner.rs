//! Running checks against runtimes, with a leak check around each one.

use std::path::Path;

use serde::Serialize;

use crate::check::{Check, Ctx, Failure};
use crate::features;
use crate::leaks::Snapshot;
use crate::runtime::oci::OciRuntime;
use crate::runtime::{Request, Runtime};
use crate::world::World;

/// How one check went against one runtime.
#[derive(Debug, Clone, Serialize)]
pub struct Result {
    /// The runtime.
    pub runtime: String,
    /// `area.name`.
    pub check: String,
    /// The invariant.
    pub claim: String,
    /// `ok`, `not ok` or `skip`.
    pub verdict: &'static str,
    /// Why it failed or was skipped.
    pub reason: String,
}

/// The runtime called `name`, or the reason none can be used.
pub fn resolve(name: &str, world: &World) -> std::result::Result<Runtime, String> {
    // A path (./learner) is a runtime under test, not a peer: it is never skipped.
    let under_test = name == "vessel" || name.contains('/');
    let runtime = if name == "vessel" {
        Runtime::Vessel
    } else if name.contains('/') {
        Runtime::Oci(OciRuntime::at(Path::new(name))?)
    } else {
        Runtime::Oci(OciRuntime::find(name)?)
    };
    // One probe run first: a runtime that cannot start a container at all here (crun on
    // a hybrid cgroup host) is skipped with its own words, not failed check by check.
    let smoke = runtime
        .run(world, &Request::probe(&["report"]))
        .and_then(|f| f.line("report").map(|_| ()));
    match smoke {
        Ok(()) => Ok(runtime),
        Err(e) if under_test => Ok({
            eprintln!("vessel-conformance: {name}: the first container failed: {e}");
            runtime
        }),
        Err(e) => Err(format!("{name} cannot run a container on this host: {e}")),
    }
}

/// Runs `checks` against `runtime` (or skips them all with `unusable`'s reason), calling
/// `report` after each.
pub fn run_all(
    world: &World,
    name: &str,
    runtime: std::result::Result<&Runtime, &str>,
    checks: &[Check],
    report: &mut dyn FnMut(&Result),
) -> Vec<Result> {
    let mut results = Vec::new();
    for check in checks {
        let verdict = match runtime {
            Err(reason) => Err(Failure::Skip(reason.to_owned())),
            Ok(runtime) => run_one(world, runtime, check),
        };
        let (verdict, reason) = match verdict {
            Ok(()) => ("ok", String::new()),
            Err(Failure::Fail(reason)) => ("not ok", reason),
            Err(Failure::Skip(reason)) => ("skip", reason),
        };
        let result = Result {
            runtime: name.to_owned(),
            check: check.id(),
            claim: check.claim.to_owned(),
            verdict,
            reason,
        };
        report(&result);
        results.push(result);
    }
    results
}

fn run_one(world: &World, runtime: &Runtime, check: &Check) -> std::result::Result<(), Failure> {
    if let Some(reason) = features::missing(check.needs, runtime) {
        return Err(Failure::Skip(reason));
    }
    let before = Snapshot::take(world);
    // A panicking check (a bug in the check) fails alone instead of ending the suite.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (check.run)(&Ctx { world, runtime })
    }))
    .unwrap_or_else(|_| Err(Failure::Fail("the check panicked (see stderr)".to_owned())));
    let left = Snapshot::take(world).new_since(&before);
    if left.is_empty() {
        return outcome;
    }
    let shown: Vec<&str> = left.iter().take(5).map(String::as_str).collect();
    let more = if left.len() > shown.len() {
        format!(", … ({} in all)", left.len())
    } else {
        String::new()
    };
    let left = format!("left behind on the host: {}{more}", shown.join(", "));
    match outcome {
        Ok(()) | Err(Failure::Skip(_)) => Err(Failure::Fail(left)),
        Err(Failure::Fail(reason)) => Err(Failure::Fail(format!("{reason}; and {left}"))),
    }
}
