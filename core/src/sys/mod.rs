//! Kernel primitives that several concerns share and none owns: the floor under
//! `process/`, `cgroups/`, `state/` and `lifecycle/`, importing nothing of theirs.

pub mod pidfd;
