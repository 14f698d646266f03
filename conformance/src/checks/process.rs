//! The container's process as its caller sees it: exit codes and signals come through.

use super::support::{held, int};
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::runtime::Request;

pub const CHECKS: [Check; 6] = [
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
        claim: "The container's effective, permitted and bounding capabilities are exactly the ones its runtime was given — docker's default 14 — and its inheritable and ambient sets are empty.",
        needs: &[],
        run: capabilities_as_given,
    },
    Check {
        area: "process",
        name: "dropped-capability-unusable",
        claim: "Without CAP_SYS_ADMIN (not in the default set) root inside cannot mount or set its own hostname: EPERM.",
        needs: &[],
        run: dropped_capability_unusable,
    },
    Check {
        area: "process",
        name: "added-capability-usable",
        claim: "Control: with CAP_SYS_ADMIN added, the same mount and sethostname succeed, so the check above can fail.",
        needs: &[],
        run: added_capability_usable,
    },
    Check {
        area: "process",
        name: "no-new-privs-as-given",
        claim: "no_new_privs is set inside exactly when the runtime was asked to set it (here: not).",
        needs: &[],
        run: no_new_privs_as_given,
    },
];

fn capabilities_as_given(ctx: &Ctx) -> Outcome {
    let request = Request::probe::<&str>(&[]);
    let given = request.capabilities().0;
    let report = super::support::report_of(ctx, &[])?;
    for (field, want) in [
        ("CapEff", given),
        ("CapPrm", given),
        ("CapBnd", given),
        ("CapInh", 0),
        ("CapAmb", 0),
    ] {
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

/// The errnos of `mount -t tmpfs` on /tmp and of `sethostname` inside, in a
/// container with the default set plus `extra`.
fn mount_and_sethostname(ctx: &Ctx, extra: Option<&str>) -> Result<(i64, i64), String> {
    let mut request = Request::probe(&["mount-tmpfs", "/tmp", "sethostname", "capcheck"]);
    if let Some(name) = extra {
        request = request.with_capability(name);
    }
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let errno = |kind: &str| -> Result<i64, String> { int(finished.line(kind)?, "errno") };
    Ok((errno("mount")?, errno("sethostname")?))
}

fn dropped_capability_unusable(ctx: &Ctx) -> Outcome {
    let (mount, sethostname) = mount_and_sethostname(ctx, None)?;
    for (call, errno) in [("mount", mount), ("sethostname", sethostname)] {
        ensure(errno == i64::from(libc::EPERM), || {
            format!(
                "{call} without CAP_SYS_ADMIN gave errno {errno}, not EPERM ({})",
                libc::EPERM
            )
        })?;
    }
    Ok(())
}

fn added_capability_usable(ctx: &Ctx) -> Outcome {
    let (mount, sethostname) = mount_and_sethostname(ctx, Some("SYS_ADMIN"))?;
    for (call, errno) in [("mount", mount), ("sethostname", sethostname)] {
        ensure(errno == 0, || {
            format!("{call} with CAP_SYS_ADMIN added failed with errno {errno}")
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
