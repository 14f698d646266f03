//! The hardening of the container's process, as the caller asks for it: one field per
//! protection, each defaulting to docker's default.

use std::os::fd::RawFd;

use super::limits::{Sysctl, Ulimit};
use super::seccomp::Seccomp;

/// How the container's process is hardened beyond namespaces and capabilities. The
/// default is docker's: seccomp's default profile, a fresh session keyring, no
/// `no_new_privs`, only fds 0–2 passed on. (`setsid()` is not optional: without a
/// terminal of its own the container never shares the caller's.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSecurity {
    /// The seccomp filter: docker's default, a profile, or none.
    pub seccomp: Seccomp,
    /// `prctl(PR_SET_NO_NEW_PRIVS)`: no `execve` can grant privileges again (setuid
    /// bits and file capabilities are ignored). `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// Join a new anonymous session keyring before `execve`, so that keys the
    /// container adds never land in the caller's keyring and the caller's keys are out
    /// of its reach (runc's default; its `--no-new-keyring` turns it off).
    pub new_session_keyring: bool,
    /// Descriptors above 2 passed on on purpose, as an inclusive range (OCI's
    /// `--preserve-fds`); every other one above 2 is closed at `execve`.
    pub keep_fds: Option<(RawFd, RawFd)>,
    /// Resource limits set in the child (`--ulimit`).
    pub ulimits: Vec<Ulimit>,
    /// Namespaced sysctls written in the container's own `/proc/sys` (`--sysctl`).
    pub sysctls: Vec<Sysctl>,
    /// Who the command runs as (`--user`, `--group-add`), looked up in the image;
    /// `None` is the container's root.
    pub user: Option<super::UserRequest>,
}

impl Default for ProcessSecurity {
    fn default() -> Self {
        ProcessSecurity {
            seccomp: Seccomp::Default,
            no_new_privileges: false,
            new_session_keyring: true,
            keep_fds: None,
            ulimits: Vec::new(),
            sysctls: Vec::new(),
            user: None,
        }
    }
}
