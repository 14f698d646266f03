//! The registry: every check, grouped by area, one file per area.

mod cgroup;
mod cleanup;
mod exec;
mod ipc;
mod layers;
mod mount;
mod net;
mod net_modes;
mod oci;
mod pid;
mod process;
mod security;
mod time;
mod user;
mod uts;
mod volumes;

pub(crate) mod support;

use crate::check::Check;

/// Every check, in the order they run.
pub fn all() -> Vec<Check> {
    [
        pid::CHECKS.as_slice(),
        uts::CHECKS.as_slice(),
        mount::CHECKS.as_slice(),
        ipc::CHECKS.as_slice(),
        net::CHECKS.as_slice(),
        net_modes::CHECKS.as_slice(),
        user::CHECKS.as_slice(),
        cgroup::CHECKS.as_slice(),
        volumes::CHECKS.as_slice(),
        layers::CHECKS.as_slice(),
        exec::CHECKS.as_slice(),
        process::CHECKS.as_slice(),
        time::CHECKS.as_slice(),
        security::CHECKS.as_slice(),
        oci::CHECKS.as_slice(),
        cleanup::CHECKS.as_slice(),
    ]
    .concat()
}
