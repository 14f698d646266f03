//! Container state: one JSON record per container in the run directory, so a container
//! can outlive the `vessel run -d` that started it and other commands can find it.
//!
//! * [`StateDir`] is the directory (`$VESSEL_RUN_DIR`, default `/run/vessel`, or
//!   `$XDG_RUNTIME_DIR/vessel` for a rootless caller): records are
//!   `ID.json`, written whole to a temporary file and renamed into place, under an
//!   exclusive `flock` on `.lock`, so a reader never sees half a record and two writers
//!   never lose each other's update.
//! * [`Record`] is one container: id, name, pid *and the pid's start time* (a pid alone
//!   can be recycled by an unrelated process after the container exits), status, exit
//!   code and the created/started/finished times.
//! * [`process`] reads what the kernel says about a pid now.

mod dir;
pub mod process;
mod record;
mod time;

pub use dir::{DEFAULT_RUN_DIR, RUN_DIR_ENV, StateDir};
pub use record::{Record, Status};
pub use time::now_rfc3339;
