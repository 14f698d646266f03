//! `vessel pause ID` / `vessel resume ID`: freeze and thaw a running container's cgroup
//! (the freezer `vessel commit` uses).

use clap::Args;

use crate::cgroups::Frozen;
use crate::error::{Error, Result};
use crate::oci::state::OciStatus;
use crate::state::Root;

/// Arguments of `vessel pause` and `vessel resume`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The container's id.
    pub id: String,
}

/// Freezes the container.
pub fn pause(root: &Root, args: PauseArgs) -> Result<i32> {
    let (_, record, status) = super::load(root, &args.id)?;
    if status != OciStatus::Running {
        return Err(super::wrong_status(
            &args.id,
            "pause",
            status,
            "only a running container pauses",
        ));
    }
    match Frozen::freeze(&record.cgroup_dirs)? {
        Some(frozen) => frozen.keep_frozen(),
        None => return Err(no_freezer(&args.id)),
    }
    Ok(0)
}

/// Thaws the container.
pub fn resume(root: &Root, args: PauseArgs) -> Result<i32> {
    let (_, record, status) = super::load(root, &args.id)?;
    if status != OciStatus::Paused {
        return Err(super::wrong_status(
            &args.id,
            "resume",
            status,
            "only a paused container resumes",
        ));
    }
    if !Frozen::thaw_dirs(&record.cgroup_dirs)? {
        return Err(no_freezer(&args.id));
    }
    Ok(0)
}

fn no_freezer(id: &str) -> Error {
    Error::Oci(format!(
        "container {id:?} has no freezer cgroup (give config.json linux.resources, or mount \
         the v1 freezer hierarchy)"
    ))
}
