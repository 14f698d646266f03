//! Kernel primitives that several concerns share and none owns: the floor under
//! `process/`, `cgroups/`, `state/`, `lifecycle/` and `tty/`, importing nothing of theirs.

pub mod errno;
pub mod pidfd;
