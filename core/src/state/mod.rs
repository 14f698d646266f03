//! Container state: one JSON record per container in the run directory, so a container
//! can outlive the `vessel run -d` that started it and other commands can find it.
//!
//! * [`StateDir`] is the directory (`$VESSEL_RUN_DIR`, else `$VESSEL_ROOT/run`, else
//!   `/run/vessel`, or `$XDG_RUNTIME_DIR/vessel` for a rootless caller): records are
//!   `ID.json`, written whole to a temporary file and renamed into place, under an
//!   exclusive `flock` on `.lock`, so a reader never sees half a record and two writers
//!   never lose each other's update. A detached container's log is `ID.log` beside it.
//! * [`Record`] is one container: id, name, image, command, limits, mounts, pid *and the
//!   pid's start time* (a pid alone can be recycled by an unrelated process after the
//!   container exits), its supervisor, status, exit code, OOM flag and the
//!   created/started/finished times.
//! * [`machine`] is the state machine `created → running → exited → removed`; every
//!   status change is an [`Event`] applied under the lock.
//! * [`process`] reads what the kernel says about a pid now.
//! * [`ContainerId`] is an id checked once where it enters; [`paths`] spells every file
//!   and folder a container has, from it; [`resolve`] finds the container a user typed.

mod dir;
pub(crate) mod error;
mod id;
pub mod machine;
pub mod paths;
pub mod process;
mod record;
mod resolve;
mod root;
mod time;

pub use dir::{DEFAULT_RUN_DIR, RUN_DIR_ENV, StateDir};
pub use error::{StateError, StateStep};
pub use id::{ContainerId, InvalidId};
pub use machine::Event;
pub use paths::Layers;
pub use record::{Limits, MountRecord, Observed, OciSection, Record, Status};
pub use resolve::{Candidate, resolve};
pub use root::{DEFAULT_STATE_ROOT, ROOT_ENV, Root};
pub use time::now_rfc3339;
