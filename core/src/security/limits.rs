//! `--ulimit NAME=SOFT[:HARD]` and `--sysctl KEY=VALUE`: parsed and checked in the
//! parent, before anything exists; applied by the child.

use crate::namespaces::{Namespace, Namespaces};

/// One resource limit (`setrlimit(2)`), as docker names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    /// docker's name: `nofile`, `nproc`, `core`, …
    pub name: &'static str,
    /// `RLIMIT_*`.
    pub resource: u32,
    /// The soft limit (`u64::MAX`: unlimited).
    pub soft: u64,
    /// The hard limit (`u64::MAX`: unlimited).
    pub hard: u64,
}

/// docker's names for the `RLIMIT_*` resources.
const ULIMITS: [(&str, u32); 16] = [
    ("as", libc::RLIMIT_AS),
    ("core", libc::RLIMIT_CORE),
    ("cpu", libc::RLIMIT_CPU),
    ("data", libc::RLIMIT_DATA),
    ("fsize", libc::RLIMIT_FSIZE),
    ("locks", libc::RLIMIT_LOCKS),
    ("memlock", libc::RLIMIT_MEMLOCK),
    ("msgqueue", libc::RLIMIT_MSGQUEUE),
    ("nice", libc::RLIMIT_NICE),
    ("nofile", libc::RLIMIT_NOFILE),
    ("nproc", libc::RLIMIT_NPROC),
    ("rss", libc::RLIMIT_RSS),
    ("rtprio", libc::RLIMIT_RTPRIO),
    ("rttime", libc::RLIMIT_RTTIME),
    ("sigpending", libc::RLIMIT_SIGPENDING),
    ("stack", libc::RLIMIT_STACK),
];

/// Why a `--ulimit` or `--sysctl` is refused.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Not `NAME=SOFT[:HARD]`, or a name docker does not know.
    #[error("--ulimit {given}: {reason}")]
    BadUlimit { given: String, reason: String },
    /// A hard limit above what this process may set.
    #[error(
        "--ulimit {name}: hard limit {asked} is above vessel's own hard limit {allowed}, and \
         raising it needs CAP_SYS_RESOURCE, which vessel does not have (ask for at most \
         {allowed}, or raise vessel's limit first)"
    )]
    AboveHardLimit {
        name: &'static str,
        asked: String,
        allowed: String,
    },
    /// Not `KEY=VALUE`.
    #[error("--sysctl {0}: expected KEY=VALUE, e.g. net.ipv4.ip_forward=1")]
    BadSysctl(String),
    /// A sysctl that is not namespaced, or whose namespace the container shares.
    #[error("--sysctl {key}: {reason}")]
    SysctlRefused { key: String, reason: String },
}

impl Ulimit {
    /// Parses `nofile=1024` or `nofile=1024:2048` (`-1` for unlimited, as docker).
    pub fn parse(given: &str) -> Result<Ulimit, LimitError> {
        let bad = |reason: String| LimitError::BadUlimit {
            given: given.to_owned(),
            reason,
        };
        let (name, limits) = given
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=SOFT[:HARD], e.g. nofile=1024:2048".to_owned()))?;
        let (name, resource) = ULIMITS
            .iter()
            .find(|(n, _)| *n == name)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = ULIMITS.iter().map(|(n, _)| *n).collect();
                bad(format!("unknown limit {name:?} (use {})", names.join(", ")))
            })?;
        let value = |text: &str| -> Result<u64, LimitError> {
            match text {
                "-1" | "unlimited" => Ok(u64::MAX),
                _ => text
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{text:?} is not a number (or -1 for unlimited)"))),
            }
        };
        let (soft, hard) = match limits.split_once(':') {
            Some((soft, hard)) => (value(soft)?, value(hard)?),
            None => (value(limits)?, value(limits)?),
        };
        if soft > hard {
            return Err(bad(format!(
                "the soft limit {} is above the hard limit {}",
                show(soft),
                show(hard)
            )));
        }
        Ok(Ulimit {
            name,
            resource,
            soft,
            hard,
        })
    }

    /// Refuses a hard limit above the caller's own when the caller cannot raise it
    /// (no `CAP_SYS_RESOURCE`): the child's `setrlimit` would fail with `EPERM`.
    pub fn check_allowed(&self) -> Result<(), LimitError> {
        let mut own = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `own` is a live rlimit the kernel fills in; the resource is valid.
        if unsafe { libc::getrlimit(self.resource, &mut own) } != 0 {
            return Ok(());
        }
        let can_raise = crate::security::capabilities::own()
            .map(|(effective, _, _)| {
                effective
                    .contains(crate::security::capabilities::parse("SYS_RESOURCE").unwrap_or(24))
            })
            .unwrap_or(false);
        if self.hard > own.rlim_max && !can_raise {
            return Err(LimitError::AboveHardLimit {
                name: self.name,
                asked: show(self.hard),
                allowed: show(own.rlim_max),
            });
        }
        Ok(())
    }
}

fn show(limit: u64) -> String {
    if limit == u64::MAX {
        "unlimited".to_owned()
    } else {
        limit.to_string()
    }
}

/// One `--sysctl KEY=VALUE`, written to the container's own `/proc/sys/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl {
    /// `net.ipv4.ip_forward`.
    pub key: String,
    /// `1`.
    pub value: String,
}

/// The sysctls an IPC namespace owns (docker's list).
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

impl Sysctl {
    /// Parses `KEY=VALUE`.
    pub fn parse(given: &str) -> Result<Sysctl, LimitError> {
        let (key, value) = given
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| LimitError::BadSysctl(given.to_owned()))?;
        Ok(Sysctl {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    // ANCHOR: namespaced_sysctls
    /// docker's rule: only a sysctl that belongs to a namespace the container has of
    /// its own may be set — the IPC ones with an IPC namespace, `net.*` with a network
    /// namespace. Any other one is the host's, for every container at once.
    pub fn check_namespaced(&self, namespaces: Namespaces) -> Result<(), LimitError> {
        let refuse = |reason: &str| LimitError::SysctlRefused {
            key: self.key.clone(),
            reason: reason.to_owned(),
        };
        let well_formed = self.key.split('.').all(|part| {
            !part.is_empty()
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !well_formed {
            return Err(refuse(
                "not a sysctl name (letters, digits, _ and - between dots)",
            ));
        }
        let ipc = IPC_SYSCTLS.contains(&self.key.as_str()) || self.key.starts_with("fs.mqueue.");
        if ipc {
            if !namespaces.contains(Namespace::Ipc) {
                return Err(refuse(
                    "an IPC sysctl needs an IPC namespace of the container's own (it would change the host's)",
                ));
            }
            return Ok(());
        }
        if self.key.starts_with("net.") {
            if !namespaces.contains(Namespace::Network) {
                return Err(refuse(
                    "a net.* sysctl needs a network namespace of the container's own (it shares the host's)",
                ));
            }
            return Ok(());
        }
        Err(refuse(
            "not namespaced: it would change the host kernel for everyone (only kernel.msg*, \
             kernel.sem, kernel.shm*, fs.mqueue.* and net.* may be set, as with docker)",
        ))
    }
    // ANCHOR_END: namespaced_sysctls

    /// `KEY` as a path below `/proc/sys` (`net/ipv4/ip_forward`).
    pub fn proc_path(&self) -> String {
        self.key.replace('.', "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_parse_as_docker_writes_them() {
        let nofile = Ulimit::parse("nofile=1024:2048").unwrap();
        assert_eq!(
            (nofile.resource, nofile.soft, nofile.hard),
            (libc::RLIMIT_NOFILE, 1024, 2048)
        );
        let core = Ulimit::parse("core=-1").unwrap();
        assert_eq!((core.soft, core.hard), (u64::MAX, u64::MAX));
        for bad in ["nofile", "files=1", "nofile=x", "nofile=10:5"] {
            assert!(Ulimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_namespaced_sysctls_pass() {
        let ns = Namespaces::container_default();
        let check = |kv: &str, ns: Namespaces| Sysctl::parse(kv).unwrap().check_namespaced(ns);
        assert!(check("kernel.msgmax=65536", ns).is_ok());
        assert!(check("fs.mqueue.msg_max=20", ns).is_ok());
        assert!(check("kernel.core_pattern=|/x", ns).is_err());
        assert!(check("kernel.msgmax=1", ns.without(Namespace::Ipc)).is_err());
        assert!(check("net.ipv4.ip_forward=1", ns.with(Namespace::Network)).is_ok());
        assert!(check("net.ipv4.ip_forward=1", ns.without(Namespace::Network)).is_err());
        assert!(check("net.ipv4.../../kernel.x=1", ns.with(Namespace::Network)).is_err());
    }
}
