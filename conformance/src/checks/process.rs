//! The container's process as its caller sees it: exit codes and signals come through.

use super::support::held;
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::runtime::Request;

pub const CHECKS: [Check; 2] = [
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
];

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
