//! `vessel delete [--force] ID`: remove a stopped (or created) container: its cgroup,
//! its state; then the `poststop` hooks. A running one only with `--force` (killed
//! first), as runc.

use std::time::Duration;

use clap::Args;

use crate::error::Result;
use crate::oci::error::{OciCommandError, OciStep};
use crate::oci::state::{OciStatus, OciStore};
use crate::oci::{HookPoint, Hooks};
use crate::state::Record;
use crate::state::Root;
use crate::state::process;

/// Arguments of `vessel delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Kill a running container first; a missing one is no error.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// The container's id.
    pub id: String,
}

/// Deletes the container.
pub fn delete(root: &Root, args: DeleteArgs) -> Result<i32> {
    let store = OciStore::open_in(root);
    let record = match store.load(&args.id.parse()?) {
        Ok(record) => record,
        Err(crate::oci::state::OciStateError::NotFound(_)) if args.force => return Ok(0),
        Err(error) => return Err(error.into()),
    };
    let status = store.status(&record);
    match status {
        OciStatus::Stopped | OciStatus::Created => {}
        OciStatus::Running | OciStatus::Paused | OciStatus::Creating if !args.force => {
            return Err(super::wrong_status(
                &args.id,
                "delete",
                status,
                "stop it first with `vessel kill`, or use `vessel delete --force`",
            ));
        }
        _ => {}
    }
    remove(&store, &record)?;
    Ok(0)
}

/// Kills what is left of the container, removes its cgroups and state, runs `poststop`.
pub fn remove(store: &OciStore, record: &Record) -> Result<()> {
    if process::is_same_process(record.pid, record.pid_start_time) {
        // A frozen cgroup would hold SIGKILL until thawed.
        let _ = crate::cgroups::Frozen::thaw_dirs(&record.cgroup_dirs);
        // SAFETY: kill takes plain integers; pid + start time were checked just above.
        unsafe { libc::kill(record.pid, libc::SIGKILL) };
        process::wait_until_gone_within(record.pid, Some(Duration::from_secs(10)))
            .map_err(OciCommandError::io(OciStep::AwaitInitDeath))?;
    }
    super::kill::signal_cgroup(record, libc::SIGKILL);
    for dir in record.cgroup_dirs.iter().rev() {
        remove_cgroup_dir(dir)?;
    }
    let hooks = Hooks::load(record.bundle()).unwrap_or_default();
    store.remove(&record.id)?;
    if let Err(error) = hooks.run(HookPoint::Poststop, &record.id, record.bundle(), None) {
        crate::cli::output::errln!("vessel: warning: {}", crate::cli::error_chain(&error));
    }
    Ok(())
}

/// `rmdir` of a cgroup whose processes were killed: it empties a moment after the kill,
/// so a busy directory is retried for up to two seconds.
fn remove_cgroup_dir(dir: &std::path::Path) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(OciCommandError::io(OciStep::RemoveCgroup)(source).into());
            }
        }
    }
}
