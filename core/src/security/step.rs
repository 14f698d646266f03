//! The child's process-hardening steps, planned by [`crate::process::plan`] (see
//! `process/plan/security.rs`) and run by [`crate::process::child::security`]. One [`crate::process::plan::Step::Security`]
//! variant carries them, so they stay together.

use std::ffi::CString;

use seccompiler::sock_filter;

/// One hardening step of the child.
#[derive(Debug)]
pub enum SecurityStep {
    /// `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)` (around `keep`, an inclusive range of
    /// descriptors passed on purpose): every inherited descriptor above stderr is gone
    /// at `execve`, while the steps before still use theirs (report, go and trace
    /// pipes, the terminal socket, `setns` descriptors).
    CloseInheritedFds { keep: Option<(u32, u32)> },
    /// `setsid()`: a session of its own with no controlling terminal, so the caller's
    /// terminal cannot be driven from inside (`TIOCSTI`, `TIOCSETD`, job control).
    NewSession,
    /// `setrlimit(resource, soft, hard)` (`--ulimit`).
    SetRlimit {
        name: &'static str,
        resource: u32,
        soft: u64,
        hard: u64,
    },
    /// Write `value` to `path`, a file of the container's own `/proc/sys` (`--sysctl`).
    WriteSysctl { path: CString, value: CString },
    /// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)`: a new anonymous session keyring.
    JoinSessionKeyring,
    /// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
    NoNewPrivileges,
    /// `setgroups(groups)`, `setresgid(gid)`, `setresuid(uid)` (`--user`), as raw system
    /// calls (see [`crate::process::plan::Step::BecomeRoot`] for why). Leaving uid 0 empties the
    /// permitted and effective capability sets, as docker does for a non-root user.
    SwitchUser {
        uid: libc::uid_t,
        gid: libc::gid_t,
        groups: Vec<libc::gid_t>,
    },
    /// `seccomp(SECCOMP_SET_MODE_FILTER, 0, program)`.
    InstallSeccomp(Vec<sock_filter>),
}

impl SecurityStep {
    /// The step as a call, for error messages and the lessons.
    pub fn describe(&self) -> String {
        match self {
            SecurityStep::CloseInheritedFds { keep: None } => {
                "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)".to_owned()
            }
            SecurityStep::CloseInheritedFds {
                keep: Some((first, last)),
            } => format!("close_range(3, ~0, CLOSE_RANGE_CLOEXEC) except fds {first}-{last}"),
            SecurityStep::NewSession => "setsid()".to_owned(),
            SecurityStep::SetRlimit {
                name, soft, hard, ..
            } => format!(
                "setrlimit({name}: soft {}, hard {})",
                show(*soft),
                show(*hard)
            ),
            SecurityStep::WriteSysctl { path, value } => format!(
                "write {:?} to {:?}",
                value.to_string_lossy(),
                path.to_string_lossy()
            ),
            SecurityStep::JoinSessionKeyring => {
                "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)".to_owned()
            }
            SecurityStep::NoNewPrivileges => "prctl(PR_SET_NO_NEW_PRIVS, 1)".to_owned(),
            SecurityStep::SwitchUser { uid, gid, groups } => {
                format!("setgroups({groups:?}), setresgid({gid}), setresuid({uid}) (--user)")
            }
            SecurityStep::InstallSeccomp(program) => format!(
                "seccomp(SECCOMP_SET_MODE_FILTER, {} instructions)",
                program.len()
            ),
        }
    }
}

fn show(limit: u64) -> String {
    if limit == u64::MAX {
        "unlimited".to_owned()
    } else {
        limit.to_string()
    }
}
