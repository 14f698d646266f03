//! `vessel update --resources FILE|- ID`: change a container's limits (the
//! `linux.resources` JSON, as containerd sends it on stdin). Memory (with swap), CPU
//! (shares, quota, cpuset cpus and mems) and pids are written to its cgroup, v1 or v2;
//! anything else is refused by name.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::oci::error::{OciCommandError, OciStep};
use crate::state::Root;

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
pub fn update(root: &Root, args: UpdateArgs) -> Result<i32> {
    let (_, record, _) = super::load(root, &args.id)?;
    let mut text = String::new();
    let read = if args.resources == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(&args.resources).map(|t| text = t)
    };
    read.map_err(OciCommandError::io(OciStep::ReadResources))?;
    let resources: LinuxResources = serde_json::from_str(&text)
        .map_err(|e| Error::Oci(format!("--resources: not linux.resources JSON: {e}")))?;
    let mut writes: Vec<(&str, &str, String)> = Vec::new();
    if let Some(memory) = resources.memory() {
        if memory.reservation().is_some() || memory.kernel().is_some() {
            return Err(refused("memory.reservation/kernel"));
        }
        match memory.swap() {
            Some(total) => {
                writes.extend(memory_and_swap(&record.cgroup_dirs, memory.limit(), total)?)
            }
            None => {
                if let Some(limit) = memory.limit() {
                    writes.push(("memory.limit_in_bytes", "memory.max", limit.to_string()));
                }
            }
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
        // The same file names on v1 (the cpuset hierarchy) and v2.
        if let Some(cpus) = cpu.cpus() {
            writes.push(("cpuset.cpus", "cpuset.cpus", cpus.clone()));
        }
        if let Some(mems) = cpu.mems() {
            writes.push(("cpuset.mems", "cpuset.mems", mems.clone()));
        }
        if cpu.realtime_runtime().is_some() || cpu.realtime_period().is_some() {
            return Err(refused("cpu.realtimeRuntime/realtimePeriod"));
        }
    }
    if resources.block_io().is_some() || resources.hugepage_limits().is_some() {
        return Err(refused("blockIO/hugepageLimits"));
    }
    for (v1, v2, value) in writes {
        let mut refused = None;
        let written = record.cgroup_dirs.iter().any(|dir| {
            [v1, v2].iter().filter(|f| !f.is_empty()).any(|file| {
                let path = dir.join(file);
                path.exists()
                    && std::fs::write(&path, &value)
                        .map_err(|e| refused = Some((path, e)))
                        .is_ok()
            })
        });
        if let (false, Some((path, source))) = (written, refused) {
            return Err(Error::Oci(format!(
                "update {}: the kernel refused {value} for {}: {source}",
                args.id,
                path.display()
            )));
        }
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
        "--resources: linux.resources.{field}: vessel updates memory.limit/swap, cpu.shares, \
         cpu.quota/period, cpu.cpus/mems and pids.limit only"
    ))
}

/// The first of `dirs` that holds `file`.
fn holding(dirs: &[PathBuf], file: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(file)).find(|p| p.exists())
}

/// The writes for a new memory limit (if given) and memory+swap `total` (`-1`:
/// unlimited), in an order the kernel accepts. v1 insists memory.memsw >= memory.limit at
/// every moment, so memsw is raised first and lowered last; v2 counts swap alone
/// (memory.swap.max = total - limit).
fn memory_and_swap(
    dirs: &[PathBuf],
    limit: Option<i64>,
    total: i64,
) -> Result<Vec<(&'static str, &'static str, String)>> {
    if let Some(memsw) = holding(dirs, "memory.memsw.limit_in_bytes") {
        let current = std::fs::read_to_string(&memsw)
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .unwrap_or(i64::MAX);
        let memsw_write = ("memory.memsw.limit_in_bytes", "", total.to_string());
        let Some(limit) = limit else {
            return Ok(vec![memsw_write]);
        };
        let limit_write = ("memory.limit_in_bytes", "", limit.to_string());
        let raises = total == -1 || total > current;
        return Ok(if raises {
            vec![memsw_write, limit_write]
        } else {
            vec![limit_write, memsw_write]
        });
    }
    if holding(dirs, "memory.limit_in_bytes").is_some() {
        return Err(Error::Oci(
            "--resources: linux.resources.memory.swap: this host's cgroup v1 memory controller \
             has no swap accounting (memory.memsw.*; boot with swapaccount=1), so swap cannot \
             be limited"
                .into(),
        ));
    }
    let Some(max) = holding(dirs, "memory.max") else {
        return Err(Error::Oci(
            "--resources: linux.resources.memory.swap: the container has no memory cgroup \
             (create it with a memory limit)"
                .into(),
        ));
    };
    if holding(dirs, "memory.swap.max").is_none() {
        return Err(Error::Oci(
            "--resources: linux.resources.memory.swap: no memory.swap.max here (the kernel \
             has no swap accounting), so swap cannot be limited"
                .into(),
        ));
    }
    let memory = match limit {
        Some(limit) => Some(limit),
        None => std::fs::read_to_string(&max)
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok()),
    };
    let swap = match (total, memory) {
        (-1, _) => "max".to_owned(),
        (total, Some(memory)) => total.saturating_sub(memory).max(0).to_string(),
        (_, None) => {
            return Err(Error::Oci(
                "--resources: linux.resources.memory.swap: memory+swap needs a memory limit \
                 to subtract (give memory.limit too)"
                    .into(),
            ));
        }
    };
    let mut writes = Vec::new();
    if let Some(limit) = limit {
        writes.push(("", "memory.max", limit.to_string()));
    }
    writes.push(("", "memory.swap.max", swap));
    Ok(writes)
}
