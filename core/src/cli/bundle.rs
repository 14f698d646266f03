//! `vessel run --bundle DIR ID`: run an OCI bundle, as `runc run --bundle DIR ID` does,
//! with its lifecycle hooks at the points the runtime spec gives them.

use std::path::Path;

use super::signals;
use crate::error::{Error, Result};
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::{self, BundleError, HookPoint};
use crate::{Container, Stdio};

// ANCHOR: run_bundle
/// Runs the bundle at `dir` as container `id` in the foreground; returns its exit code.
/// `prestart` and `createRuntime` hooks run while the container's first process waits in
/// its new namespaces: if one fails, the process is killed before it runs anything.
/// `poststart` and `poststop` failures are warnings, as the spec says.
/// With `trace`, prints where the start-up time went, as `vessel run --trace` does.
pub fn run_bundle(dir: &Path, id: &str, trace: bool) -> Result<i32> {
    let bad = |source: BundleError| Error::Bundle {
        bundle: dir.to_owned(),
        source,
    };
    let bundle = oci::Bundle::load(dir, id).map_err(bad)?;
    if bundle.terminal {
        return Err(bad(BundleError::Unsupported {
            field: "process.terminal".into(),
            why: "`vessel run --bundle` gives no terminal; set it to false, or use \
                  `vessel create --console-socket`"
                .into(),
        }));
    }
    for warning in &bundle.warnings {
        super::output::errln!("vessel: warning: {warning}");
    }
    let hooks = &bundle.hooks;
    let forwarder = signals::Forwarder::install()?;
    let spec = bundle.spec.clone().trace_start(trace);
    let started = Container::spawn_supervised(&spec, Stdio::default(), |pid| {
        bundle
            .set_oom_score_adj(pid)
            .map_err(OciCommandError::io(OciStep::WriteOomScoreAdj))?;
        for point in [HookPoint::Prestart, HookPoint::CreateRuntime] {
            hooks
                .run(point, id, dir, Some(pid))
                .map_err(|e| bad(e.into()))?;
        }
        Ok(())
    });
    let mut running = match started {
        Ok(running) => running,
        Err(error) => {
            warn(hooks.run(HookPoint::Poststop, id, dir, None));
            return Err(error);
        }
    };
    if let Some(trace) = running.start_trace() {
        super::output::err(&super::trace::table(trace));
    }
    warn(hooks.run(HookPoint::Poststart, id, dir, Some(running.pid())));
    forwarder.forward_until_exit(&running)?;
    let status = running.wait();
    warn(hooks.run(HookPoint::Poststop, id, dir, None));
    Ok(status?.code())
}
// ANCHOR_END: run_bundle

fn warn(outcome: std::result::Result<(), oci::HookError>) {
    if let Err(error) = outcome {
        super::output::errln!("vessel: warning: {}", super::error_chain(&error));
    }
}
