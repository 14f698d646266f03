//! The process-hardening options of `vessel run` and `vessel exec`, as docker spells
//! them: `--security-opt seccomp=…|no-new-privileges[=…]`, `--ulimit`, `--sysctl`.

use std::path::Path;

use clap::Args;

use crate::error::Result;
use crate::process::spec::ContainerSpec;
use crate::security::{Seccomp, Sysctl, Ulimit, seccomp::Profile};

/// The options; see [`ProcessSecurityArgs::apply`].
#[derive(Debug, Clone, Default, Args)]
pub struct ProcessSecurityArgs {
    /// A security option (repeatable): `seccomp=unconfined` (no seccomp filter),
    /// `seccomp=FILE.json` (a profile in docker's format instead of docker's default
    /// one), `no-new-privileges` or `no-new-privileges=true|false` (no execve can gain
    /// privileges: setuid bits and file capabilities stop working).
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// A resource limit, NAME=SOFT[:HARD] (repeatable; docker's names: nofile, nproc,
    /// core, memlock, stack, as, cpu, data, fsize, locks, msgqueue, nice, rss, rtprio,
    /// rttime, sigpending; -1 for unlimited). Only up to vessel's own hard limit unless
    /// vessel has CAP_SYS_RESOURCE.
    #[arg(long = "ulimit", value_name = "NAME=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// A namespaced sysctl, KEY=VALUE (repeatable): kernel.msg*, kernel.sem,
    /// kernel.shm* and fs.mqueue.* with an IPC namespace, net.* with a network
    /// namespace of the container's own. Any other one is refused: it is the host's.
    #[arg(long = "sysctl", value_name = "KEY=VALUE")]
    pub sysctl: Vec<String>,
    /// Run the command as this user: UID[:GID] or NAME[:GROUP], names from the image's
    /// /etc/passwd and /etc/group [default: root]. A user other than root starts with
    /// no capabilities (the bounding set stays), as with docker.
    #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// An extra group for --user's process, by name (from the image's /etc/group) or
    /// number (repeatable).
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
}

/// What `--security-opt` asked for.
#[derive(Debug, Default)]
struct SecurityOpts {
    seccomp: Option<Seccomp>,
    no_new_privileges: Option<bool>,
}

impl ProcessSecurityArgs {
    /// Checks every option, before anything is created.
    pub fn check(&self) -> Result<()> {
        self.security_opts()?;
        for ulimit in &self.ulimit {
            Ulimit::parse(ulimit)?;
        }
        for sysctl in &self.sysctl {
            Sysctl::parse(sysctl)?;
        }
        Ok(())
    }

    // ANCHOR: security_apply
    /// `spec` with the options applied. `privileged` (`--privileged`) means no seccomp
    /// filter unless a profile file is named explicitly, as with docker.
    pub fn apply(&self, mut spec: ContainerSpec, privileged: bool) -> Result<ContainerSpec> {
        let opts = self.security_opts()?;
        let security = &mut spec.process_security;
        security.seccomp = match opts.seccomp {
            Some(seccomp) => seccomp,
            None if privileged => Seccomp::Unconfined,
            None => Seccomp::Default,
        };
        if let Some(no_new_privileges) = opts.no_new_privileges {
            security.no_new_privileges = no_new_privileges;
        }
        for ulimit in &self.ulimit {
            let ulimit = Ulimit::parse(ulimit)?;
            security.ulimits.retain(|u| u.resource != ulimit.resource);
            security.ulimits.push(ulimit);
        }
        for sysctl in &self.sysctl {
            security.sysctls.push(Sysctl::parse(sysctl)?);
        }
        if self.user.is_some() || !self.group_add.is_empty() {
            security.user = Some(crate::security::UserRequest {
                user: self.user.clone().unwrap_or_else(|| "0".to_owned()),
                group_add: self.group_add.clone(),
            });
        }
        Ok(spec)
    }
    // ANCHOR_END: security_apply

    fn security_opts(&self) -> Result<SecurityOpts> {
        let mut opts = SecurityOpts::default();
        for opt in &self.security_opt {
            let (key, value) = match opt.split_once(['=', ':']) {
                Some((key, value)) => (key, Some(value)),
                None => (opt.as_str(), None),
            };
            match (key, value) {
                ("seccomp", Some("unconfined")) => opts.seccomp = Some(Seccomp::Unconfined),
                ("seccomp", Some("builtin" | "default")) => opts.seccomp = Some(Seccomp::Default),
                ("seccomp", Some(file)) => {
                    let profile = Profile::from_file(Path::new(file))?;
                    opts.seccomp = Some(Seccomp::Profile(Box::new(profile)));
                }
                ("no-new-privileges", None | Some("true")) => opts.no_new_privileges = Some(true),
                ("no-new-privileges", Some("false")) => opts.no_new_privileges = Some(false),
                _ => {
                    return Err(crate::Error::SecurityOption(format!(
                        "--security-opt {opt:?}: unknown option (use seccomp=unconfined, \
                         seccomp=FILE.json, no-new-privileges or no-new-privileges=true|false)"
                    )));
                }
            }
        }
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(opts: &[&str]) -> ProcessSecurityArgs {
        ProcessSecurityArgs {
            security_opt: opts.iter().map(|s| (*s).to_owned()).collect(),
            ..ProcessSecurityArgs::default()
        }
    }

    #[test]
    fn security_opts_parse_as_docker_spells_them() {
        let spec = || ContainerSpec::new("/r", ["sh"]);
        let applied = args(&["no-new-privileges"]).apply(spec(), false).unwrap();
        assert!(applied.process_security.no_new_privileges);
        assert_eq!(applied.process_security.seccomp, Seccomp::Default);
        let applied = args(&["no-new-privileges=false", "seccomp=unconfined"])
            .apply(spec(), false)
            .unwrap();
        assert!(!applied.process_security.no_new_privileges);
        assert_eq!(applied.process_security.seccomp, Seccomp::Unconfined);
        let privileged = args(&[]).apply(spec(), true).unwrap();
        assert_eq!(privileged.process_security.seccomp, Seccomp::Unconfined);
        assert!(args(&["apparmor=x"]).check().is_err());
        assert!(args(&["seccomp=/no/such/profile.json"]).check().is_err());
    }
}
