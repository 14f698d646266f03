//! Security: what keeps a container's processes from reaching past their container.
//!
//! - [`in_root`]: resolving paths inside a rootfs, layer or container, never through
//!   the host's view of a symlink;
//! - [`masked_paths`]: docker's read-only and masked `/proc` and `/sys` paths;
//! - [`process`]: the hardening of the process itself, which every entry point (`run`,
//!   `exec`, bundles) applies: a session of its own, no inherited descriptors, seccomp,
//!   `no_new_privs`, a fresh session keyring;
//! - [`seccomp`]: profiles and their compilation to BPF.
//!
//! The child's side of these steps (between `clone3` and `execve`) lives with the rest
//! of that code, in [`crate::process::child::security`].

pub mod capabilities;
pub mod in_root;
pub mod limits;
pub mod masked_paths;
pub mod process;
pub mod seccomp;
pub mod step;
pub mod user;

pub use in_root::InRoot;
pub use limits::{LimitError, Sysctl, Ulimit};
pub use masked_paths::{default_masked_paths, default_readonly_paths};
pub use process::ProcessSecurity;
pub use seccomp::{Seccomp, SeccompError};
pub use step::SecurityStep;
pub use user::{ResolvedUser, UserError, UserRequest};
