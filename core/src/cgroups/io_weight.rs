//! Block I/O weight (`--blkio-weight`, docker's flag): a container's share of a disk
//! when several cgroups compete for it. The file that holds it depends on which
//! proportional I/O policy the kernel has, so vessel looks for it rather than assuming:
//!
//! * v1: `blkio.weight` (the CFQ scheduler's, removed in Linux 5.0), else
//!   `blkio.bfq.weight` (the BFQ scheduler's, once `bfq` is built in or loaded);
//! * v2: `io.weight` (the io cost model, `CONFIG_BLK_CGROUP_IOCOST`), else
//!   `io.bfq.weight`.
//!
//! A weight only acts on a disk whose scheduler honours it (BFQ, or iocost enabled in
//! `io.cost.qos`); elsewhere it is written and read back but changes nothing.

use std::path::Path;

use super::error::{CgroupError, CgroupStep, Lack, Result};

/// The weight files of v1, the first one found is written.
pub const V1_FILES: [&str; 2] = ["blkio.weight", "blkio.bfq.weight"];
/// The weight files of v2, the first one found is written.
pub const V2_FILES: [&str; 2] = ["io.weight", "io.bfq.weight"];

/// The bounds docker and the kernel's policies put on a weight.
pub const WEIGHTS: std::ops::RangeInclusive<u64> = 10..=1000;

// ANCHOR: file_in
/// The first of `files` that `dir` has, or an error saying why none is there.
pub fn file_in(dir: &Path, files: [&'static str; 2]) -> Result<&'static str> {
    files
        .into_iter()
        .find(|name| dir.join(name).is_file())
        .ok_or_else(|| {
            CgroupError::lacking(
                CgroupStep::SetBlkioWeight(dir.to_owned()),
                Lack::NoWeightFile { files },
            )
        })
}
// ANCHOR_END: file_in
