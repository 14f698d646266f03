//! The cgroup options of `vessel run` (`-m 64m`, `--cpus 0.2`, `--pids-limit 16`, …), and
//! what `vessel run` says about the cgroup when the container exits (`--stats`, OOM).
//!
//! Values are taken as strings and parsed here, so a bad one is a vessel error naming
//! the option, the value and the fix (`--memory 64q: unknown unit "q" (use b, k, m or g)`),
//! reported before anything is created. A negative number (`-m -1`, `--cpus -1`) is taken
//! as the option's value, as docker takes it, so the refusal is vessel's and names the
//! option, rather than clap's "unexpected argument '-1'".

use std::path::PathBuf;

use clap::Args;

use super::output::errln;
use crate::cgroups::{self, CgroupSpec, CpuQuota, CpuSet, ResourceError, Resources};
use crate::error::Result;
use crate::process::container::Running;
use crate::process::exit::ExitStatus;
use crate::process::spec::ContainerSpec;

/// Resource limits and accounting for `vessel run`.
#[derive(Debug, Args, Default)]
pub struct CgroupArgs {
    /// Memory limit, e.g. 64m (units b, k, m, g); swap is turned off with it.
    #[arg(short = 'm', long, value_name = "SIZE", allow_negative_numbers = true)]
    pub memory: Option<String>,
    /// CPU limit as a number of CPUs, e.g. 0.2 (= --cpu-quota 20000 --cpu-period 100000).
    #[arg(long, value_name = "CPUS", allow_negative_numbers = true)]
    pub cpus: Option<String>,
    /// CPU time allowed per period, in µs (the CFS quota).
    #[arg(long, value_name = "µs", allow_negative_numbers = true)]
    pub cpu_quota: Option<String>,
    /// Length of the CFS period, in µs [default: 100000].
    #[arg(long, value_name = "µs", allow_negative_numbers = true)]
    pub cpu_period: Option<String>,
    /// Relative CPU weight (2..=262144, 1024 = normal); cpu.weight on cgroup v2.
    #[arg(long, value_name = "SHARES", allow_negative_numbers = true)]
    pub cpu_shares: Option<String>,
    /// CPUs the container may run on, e.g. 0 or 0-1,3.
    #[arg(long, value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// The most processes the container may have at once.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub pids_limit: Option<String>,
    /// Block I/O weight, 10..=1000 (blkio.weight or blkio.bfq.weight on v1, io.weight or
    /// io.bfq.weight on v2; it acts only on a disk whose scheduler honours it, e.g. BFQ).
    #[arg(long, value_name = "WEIGHT", allow_negative_numbers = true)]
    pub blkio_weight: Option<String>,
    /// Cgroup to create the container's cgroup in: relative to vessel's own cgroup, or
    /// absolute from the hierarchy's root [default: vessel].
    #[arg(long, value_name = "PATH")]
    pub cgroup_parent: Option<PathBuf>,
    /// Print the container's cgroup counters (memory, CPU, pids, OOM kills) on stderr
    /// when it exits.
    #[arg(long, conflicts_with = "detach")]
    pub stats: bool,
    /// With --stats: print them as one line of JSON instead of a table.
    #[arg(long, requires = "stats")]
    pub json: bool,
}

fn number(option: &str, text: &str, what: &str) -> Result<u64, ResourceError> {
    text.trim()
        .parse()
        .map_err(|_| ResourceError::new(option, text, format!("expected {what}")))
}

impl CgroupArgs {
    /// The limits asked for, parsed and checked for conflicts.
    pub fn resources(&self) -> Result<Resources, ResourceError> {
        let mut resources = Resources::default();
        if let Some(text) = &self.memory {
            let bytes = cgroups::parse_size(text)
                .map_err(|reason| ResourceError::new("--memory", text, reason))?;
            resources.memory_bytes = Some(bytes);
        }
        resources.cpu_quota = self.cpu_quota()?;
        if let Some(text) = &self.cpu_shares {
            resources.cpu_shares =
                Some(number("--cpu-shares", text, "a whole number such as 512")?);
        }
        if let Some(text) = &self.cpuset_cpus {
            let cpus = CpuSet::parse(text)
                .map_err(|reason| ResourceError::new("--cpuset-cpus", text, reason))?;
            resources.cpuset_cpus = Some(cpus);
        }
        if let Some(text) = &self.pids_limit {
            resources.pids_max = Some(number("--pids-limit", text, "a whole number such as 64")?);
        }
        if let Some(text) = &self.blkio_weight {
            resources.blkio_weight = Some(number(
                "--blkio-weight",
                text,
                "a whole number such as 300",
            )?);
        }
        Ok(resources)
    }

    fn cpu_quota(&self) -> Result<Option<CpuQuota>, ResourceError> {
        let micros = "a whole number of microseconds such as 50000";
        match (&self.cpus, &self.cpu_quota, &self.cpu_period) {
            (Some(cpus), None, None) => {
                let quota = cgroups::parse_cpus(cpus)
                    .map_err(|reason| ResourceError::new("--cpus", cpus, reason))?;
                Ok(Some(CpuQuota::per_default_period(quota)))
            }
            (Some(cpus), _, _) => Err(ResourceError::new(
                "--cpus",
                cpus,
                "give either --cpus or --cpu-quota/--cpu-period, not both",
            )),
            (None, Some(quota), period) => {
                let quota_us = number("--cpu-quota", quota, micros)?;
                let period_us = match period {
                    Some(p) => number("--cpu-period", p, micros)?,
                    None => cgroups::DEFAULT_CPU_PERIOD_US,
                };
                Ok(Some(CpuQuota {
                    quota_us,
                    period_us,
                }))
            }
            (None, None, Some(period)) => Err(ResourceError::new(
                "--cpu-period",
                period,
                "needs --cpu-quota (the CPU time allowed in each period)",
            )),
            (None, None, None) => Ok(None),
        }
    }

    /// The cgroup these flags ask for: `None` unless a limit, `--cgroup-parent` or
    /// `--stats` wants one. Every value is parsed here, so a bad one fails before
    /// anything is created; the library checks and places it once
    /// ([`CgroupSpec::place`], in `lifecycle::run`), and nothing reads it again.
    pub fn cgroup(&self, id: &str) -> Result<Option<CgroupSpec>> {
        let resources = self.resources()?;
        if resources.is_empty() && self.cgroup_parent.is_none() && !self.stats {
            return Ok(None);
        }
        let mut cgroup = CgroupSpec::new(id, resources);
        cgroup.parent = self.cgroup_parent.clone();
        cgroup.counters = self.stats;
        Ok(Some(cgroup))
    }

    /// `spec` with the cgroup these flags ask for (see [`CgroupArgs::cgroup`]), named
    /// `id`.
    pub fn apply(&self, mut spec: ContainerSpec, id: &str) -> Result<ContainerSpec> {
        spec.cgroup = self.cgroup(id)?;
        Ok(spec)
    }

    // ANCHOR: report
    /// After `wait`: says so if the OOM killer struck, prints `--stats`, and returns the
    /// exit code — 137 (128 + SIGKILL) for an OOM kill, as docker does.
    pub fn report(&self, running: &Running, status: ExitStatus) -> Result<i32> {
        let Some(stats) = running.stats()? else {
            return Ok(status.code());
        };
        if self.stats {
            if self.json {
                let json = serde_json::to_string(&stats).expect("plain numbers serialize");
                errln!("{json}");
            } else {
                super::output::err(&stats.to_string());
            }
        }
        if stats.oom_killed() {
            errln!(
                "vessel: the container was OOM-killed: the kernel killed {} process(es) \
                 at its memory limit ({status})",
                stats.oom_kills
            );
            return Ok(128 + libc::SIGKILL);
        }
        Ok(status.code())
    }
    // ANCHOR_END: report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut CgroupArgs)) -> CgroupArgs {
        let mut a = CgroupArgs::default();
        f(&mut a);
        a
    }

    /// The error of these flags: parsing them, or placing the cgroup they ask for (as
    /// `lifecycle::run` does), where a limit is checked against this machine.
    fn error(f: impl FnOnce(&mut CgroupArgs)) -> String {
        let placed = |cgroup: Option<CgroupSpec>| Ok(cgroup.map(CgroupSpec::place).transpose()?);
        let cgroup = args(f).cgroup("abc").and_then(placed);
        cgroup.unwrap_err().to_string()
    }

    #[test]
    fn bad_values_name_the_option_and_the_fix() {
        assert_eq!(
            error(|a| a.memory = Some("64q".into())),
            r#"--memory 64q: unknown unit "q" (use b, k, m or g)"#
        );
        assert_eq!(
            error(|a| a.cpus = Some("0".into())),
            "--cpus 0: must be more than 0 (leave the option out for no CPU limit)"
        );
        let online = cgroups::online_cpus().unwrap().len();
        let too_many = (online + 97).to_string();
        assert_eq!(
            error(|a| a.cpus = Some(too_many.clone())),
            format!(
                "--cpus {too_many}: more than this machine's {online} CPUs (ask for at most {online})"
            )
        );
        assert!(error(|a| a.cpuset_cpus = Some("4095".into())).contains("does not exist here"));
        assert!(error(|a| a.pids_limit = Some("x".into())).contains("--pids-limit x: expected"));
        assert!(error(|a| a.cpu_period = Some("1000".into())).contains("needs --cpu-quota"));
        assert!(
            error(|a| {
                a.cpus = Some("1".into());
                a.cpu_quota = Some("1000".into());
            })
            .contains("not both")
        );
    }

    #[test]
    fn stats_need_the_foreground() {
        use clap::Parser;
        let parse = |args: &[&str]| crate::cli::Cli::try_parse_from(args).map(drop);
        let error = parse(&["vessel", "run", "-d", "--stats", "--", "true"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(
            parse(&[
                "vessel", "run", "--stats", "--json", "-m", "8m", "--", "true"
            ])
            .is_ok()
        );
    }

    #[test]
    fn no_limit_means_no_cgroup() {
        assert_eq!(CgroupArgs::default().cgroup("abc").unwrap(), None);
        let cgroup = args(|a| {
            a.memory = Some("64m".into());
            a.cpu_quota = Some("20000".into());
        })
        .cgroup("abc")
        .unwrap()
        .expect("a cgroup");
        assert_eq!(cgroup.name, "abc");
        assert_eq!(cgroup.resources.memory_bytes, Some(64 << 20));
        assert_eq!(
            cgroup.resources.cpu_quota,
            Some(CpuQuota::per_default_period(20_000))
        );
    }
}
