//! `vessel run --bundle DIR ID`: run an OCI bundle, as `runc run --bundle DIR ID` does.

use std::path::Path;

use super::signals;
use crate::Container;
use crate::error::{Error, Result};
use crate::oci;

/// Runs the bundle at `dir` as container `id` in the foreground; returns its exit code.
pub fn run_bundle(dir: &Path, id: &str) -> Result<i32> {
    let spec = oci::spec_from_bundle(dir, id).map_err(|source| Error::Bundle {
        bundle: dir.to_owned(),
        source,
    })?;
    let forwarder = signals::Forwarder::install()?;
    let mut running = Container::spawn(&spec)?;
    forwarder.forward_until_exit(&running)?;
    Ok(running.wait()?.code())
}
