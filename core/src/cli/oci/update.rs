//! `vessel update --resources FILE|- ID`: change a container's limits (the
//! `linux.resources` JSON, as containerd sends it on stdin). Memory, CPU and pids are
//! written to its cgroup; anything else is refused by name.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};

/// Arguments of `vessel update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// A file with the `linux.resources` JSON, or `-` for stdin.
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: PathBuf,
    /// The container's id.
    pub id: String,
}

/// Writes the new limits to the container's cgroup.
pub fn update(args: UpdateArgs) -> Result<i32> {
    let (_, record, _) = super::load(&args.id)?;
    let mut text = String::new();
    let read = if args.resources == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(&args.resources).map(|t| text = t)
    };
    read.map_err(|source| Error::Sys {
        call: "read --resources",
        source,
    })?;
    let resources: LinuxResources = serde_json::from_str(&text)
        .map_err(|e| Error::Oci(format!("--resources: not linux.resources JSON: {e}")))?;
    let mut writes: Vec<(&str, &str, String)> = Vec::new();
    if let Some(memory) = resources.memory() {
        if let Some(limit) = memory.limit() {
            writes.push(("memory.limit_in_bytes", "memory.max", limit.to_string()));
        }
        if memory.swap().is_some() || memory.reservation().is_some() || memory.kernel().is_some() {
            return Err(refused("memory.swap/reservation/kernel"));
        }
    }
    if let Some(pids) = resources.pids() {
        writes.push(("pids.max", "pids.max", pids.limit().to_string()));
    }
    if let Some(cpu) = resources.cpu() {
        if let Some(shares) = cpu.shares() {
            writes.push(("cpu.shares", "", shares.to_string()));
        }
        if let Some(quota) = cpu.quota() {
            let period = cpu
                .period()
                .unwrap_or(crate::cgroups::DEFAULT_CPU_PERIOD_US);
            writes.push(("cpu.cfs_period_us", "", period.to_string()));
            writes.push(("cpu.cfs_quota_us", "cpu.max", quota.to_string()));
        }
        if cpu.cpus().is_some() || cpu.mems().is_some() || cpu.realtime_runtime().is_some() {
            return Err(refused("cpu.cpus/mems/realtime"));
        }
    }
    if resources.block_io().is_some() || resources.hugepage_limits().is_some() {
        return Err(refused("blockIO/hugepageLimits"));
    }
    for (v1, v2, value) in writes {
        let written = record.cgroup_dirs.iter().any(|dir| {
            [v1, v2].iter().filter(|f| !f.is_empty()).any(|file| {
                let path = dir.join(file);
                path.exists() && std::fs::write(&path, &value).is_ok()
            })
        });
        if !written {
            return Err(Error::Oci(format!(
                "update {}: no cgroup file {v1} to write {value} to (create the container with \
                 this limit set, so its cgroup has the controller)",
                args.id
            )));
        }
    }
    Ok(0)
}

fn refused(field: &str) -> Error {
    Error::Oci(format!(
        "--resources: linux.resources.{field}: vessel updates memory.limit, cpu.shares, \
         cpu.quota/period and pids.limit only"
    ))
}
