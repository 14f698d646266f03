//! The container's process as its caller sees it: exit codes and signals come through.

use super::support::held;
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::runtime::Request;
use crate::runtime::oci_config::WITHHELD_CAPABILITY;

pub const CHECKS: [Check; 4] = [
    Check {
        area: "process",
        name: "exit-code-propagates",
        claim: "The container's exit code is the runtime's exit code.",
        needs: &[],
        run: exit_code_propagates,
    },
    Check {
        area: "process",
        name: "killed-is-128-plus-signal",
        claim: "A container killed by SIGKILL from the host ends with 137 (128 + 9).",
        needs: &[],
        run: killed_is_128_plus_signal,
    },
    Check {
        area: "process",
        name: "capabilities-as-given",
        claim: "The container's effective and bounding capabilities are exactly the ones its runtime was given (none dropped or added by accident).",
        needs: &[],
        run: capabilities_as_given,
    },
    Check {
        area: "process",
        name: "no-new-privs-as-given",
        claim: "no_new_privs is set inside exactly when the runtime was asked to set it (here: not).",
        needs: &[],
        run: no_new_privs_as_given,
    },
];

/// Capabilities 0..=40 (up to CAP_CHECKPOINT_RESTORE), the ones the bundle can name.
const KNOWN_CAPS: u64 = (1 << 41) - 1;

/// A capability set field of `/proc/self/status`, as a mask.
fn own_caps(field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    u64::from_str_radix(hex.trim(), 16).map_err(|e| format!("{field} {hex:?}: {e}"))
}

fn capabilities_as_given(ctx: &Ctx) -> Outcome {
    let report = super::support::report_of(ctx, &[])?;
    // vessel drops nothing: the container keeps the caller's sets. The OCI bundle names
    // the caller's bounding set, capability by capability, less one it withholds.
    let (effective, bounding) = if ctx.runtime.is_vessel() {
        (own_caps("CapEff:")?, own_caps("CapBnd:")?)
    } else {
        let given = own_caps("CapBnd:")? & KNOWN_CAPS & !(1 << WITHHELD_CAPABILITY);
        (given, given)
    };
    for (field, want) in [("CapEff", effective), ("CapBnd", bounding)] {
        let got = report
            .status
            .get(field)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .ok_or_else(|| format!("the probe reported no {field}"))?;
        ensure(got == want, || {
            format!("{field} inside is {got:016x}, the runtime was given {want:016x}")
        })?;
    }
    Ok(())
}

fn no_new_privs_as_given(ctx: &Ctx) -> Outcome {
    let report = super::support::report_of(ctx, &[])?;
    ensure(report.no_new_privs == 0, || {
        "no_new_privs is set inside though nobody asked for it".to_owned()
    })
}

fn exit_code_propagates(ctx: &Ctx) -> Outcome {
    let finished = ctx
        .runtime
        .run(ctx.world, &Request::probe(&["exit", "7"]))?;
    ensure(finished.code == 7, || {
        format!("the probe exited 7, the runtime reported {}", finished.code)
    })
}

fn killed_is_128_plus_signal(ctx: &Ctx) -> Outcome {
    let (session, _) = held(ctx, Request::probe::<&str>(&[]))?;
    session.kill(libc::SIGKILL)?;
    let finished = session.finish()?;
    ensure(finished.code == 137, || {
        format!("a SIGKILLed container ended with {}", finished.code)
    })
}
