//! A container's life from `vessel run` on: start it, find it, stop it, read its log,
//! wait for it, remove it — and get the truth back after a crash.
//!
//! ```text
//!   vessel run -d ──► created ──► running ──► exited ──► removed
//!                    (record)   (shim saw    (shim saw   (rm: cgroups, layers,
//!                                exec)        the exit)   log, record)
//! ```
//!
//! * [`run`]: the start — the cgroup placed and the record made side by side, the root,
//!   the network and the spec prepared, then the container started in the foreground or
//!   under a shim; `vessel run` is a thin caller of it.
//! * [`Tracked`]: the supervisor's side — the foreground `vessel run`, or the shim that
//!   [`run_detached`] forks for `vessel run -d`, which also copies the container's output into its log
//!   ([`relay`], [`log`]).
//! * [`stop`], [`kill`], [`wait`], [`logs`], [`remove`]: everyone else's side, by id,
//!   unique id prefix or name. They signal and wait through pidfds pinned to the
//!   recorded pid *and* start time, so a recycled pid is never hit, and they never poll.
//! * Recovery: a record is only ever believed together with the kernel. "Running"
//!   whose process is gone reads as exited ([`crate::state::Record::observed`]); a
//!   record carries every path its container may have made, so `remove` with `force`
//!   cleans up after any crash, and can itself be run again if cut short.

mod cleanup;
mod commit;
pub(crate) mod error;
mod find;
mod follow;
pub mod log;
mod pidfd;
pub mod relay;
mod remove;
mod resident;
pub mod run;
mod settle;
mod shim;
mod stop;
mod tracked;
mod wait;

pub use cleanup::{clean_up, reap_never_started};
pub use commit::commit;
pub use error::{LifecycleError, LifecycleStep};
pub use find::find;
pub use follow::logs;
pub use pidfd::Pinned;
pub use remove::remove;
pub use settle::settle;
pub use shim::{Detached, run_detached};
pub use stop::{EndedBy, Stopped, kill, stop};
pub use tracked::Tracked;
pub use wait::wait;
