//! Kernel primitives that several concerns share and none owns: the floor under
//! `process/`, `cgroups/`, `state/`, `lifecycle/`, `network/` and `tty/`, importing
//! nothing of theirs. [`crash`] is the one test hook among them: the points where a test
//! stops vessel dead are on the paths of several concerns.

pub mod crash;
pub mod dumpable;
pub mod errno;
pub mod pidfd;
