//! Seccomp: a BPF filter the kernel runs on every system call of the container,
//! which decides whether the call runs.
//!
//! - [`profile`]: docker's profile format (`--security-opt seccomp=FILE.json`), which
//!   the OCI bundle's `linux.seccomp` can feed too;
//! - [`default_profile`]: docker's default profile, vessel's own table of it;
//! - [`compile`]: profile + capabilities → BPF, with `seccompiler`;
//! - [`oci_json`]: a profile as OCI `linux.seccomp` JSON, for other runtimes.
//!
//! The parent compiles; the child only installs the program
//! ([`crate::plan::Step::Seccomp`]), as the last step before `execve` when
//! `no_new_privs` is set, or before the capabilities are dropped when it is not
//! (without `no_new_privs` installing a filter needs `CAP_SYS_ADMIN`).

pub mod compile;
pub mod default_profile;
#[cfg(test)]
mod interpret;
pub mod oci_json;
pub mod profile;
mod syscalls_x86_64;

use std::path::PathBuf;

pub use compile::{Target, compile};
pub use default_profile::docker_default;
pub use oci_json::{docker_default_oci_json, to_oci_json};
pub use profile::Profile;

/// The seccomp filter a container gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seccomp {
    /// docker's default profile (the default).
    #[default]
    Default,
    /// No filter (`--security-opt seccomp=unconfined`, `--privileged`).
    Unconfined,
    /// A profile the user gave (`--security-opt seccomp=FILE.json`).
    Profile(Box<Profile>),
}

impl Seccomp {
    /// The profile to compile, if any.
    pub fn profile(&self) -> Option<std::borrow::Cow<'_, Profile>> {
        match self {
            Seccomp::Default => Some(std::borrow::Cow::Owned(docker_default())),
            Seccomp::Unconfined => None,
            Seccomp::Profile(profile) => Some(std::borrow::Cow::Borrowed(profile)),
        }
    }
}

/// What can go wrong reading or compiling a profile.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The profile file could not be read.
    #[error(
        "seccomp profile {path:?}: {reason} (give a readable JSON file, or seccomp=unconfined)"
    )]
    Read { path: PathBuf, reason: String },
    /// The profile file is not docker's JSON format.
    #[error("seccomp profile {path:?}: {reason} (docker's format: defaultAction, syscalls[...])")]
    ParseFile { path: PathBuf, reason: String },
    /// A profile given as text is not docker's JSON format.
    #[error("seccomp profile: {0}")]
    Parse(String),
    /// An action vessel does not know (`SCMP_ACT_NOTIFY` needs a listener, which vessel
    /// does not provide).
    #[error(
        "seccomp profile: unknown action {0:?} (use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, \
         SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, \
         SCMP_ACT_TRACE or SCMP_ACT_LOG)"
    )]
    UnknownAction(String),
    /// A comparison vessel does not know.
    #[error(
        "seccomp profile: unknown operator {0:?} (use SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, \
         SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE or SCMP_CMP_MASKED_EQ)"
    )]
    UnknownOperator(String),
    /// An argument index past the sixth.
    #[error("seccomp profile: argument index {0} (a system call has arguments 0 to 5)")]
    BadArgumentIndex(u8),
    /// An errno the kernel cannot return.
    #[error("seccomp profile: errnoRet {0} (the kernel returns errnos up to 4095)")]
    BadErrno(u32),
    /// A capability name in `includes`/`excludes` that does not exist.
    #[error("seccomp profile: unknown capability {0:?} in includes/excludes")]
    UnknownCapability(String),
    /// A `minKernel` that is not `MAJOR.MINOR`.
    #[error("seccomp profile: minKernel {0:?} (expected \"MAJOR.MINOR\", e.g. \"4.8\")")]
    BadKernelVersion(String),
    /// The BPF compiler refused the filter.
    #[error("seccomp profile: {0}")]
    Compile(String),
}

/// The x86_64 number of the system call `name`.
pub fn syscall_number(name: &str) -> Option<i64> {
    let table = syscalls_x86_64::SYSCALLS;
    table
        .binary_search_by(|(n, _)| n.as_bytes().cmp(name.as_bytes()))
        .ok()
        .map(|at| table[at].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syscall_table_is_sorted_and_finds_names() {
        let table = syscalls_x86_64::SYSCALLS;
        assert!(
            table
                .windows(2)
                .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
        );
        assert_eq!(syscall_number("read"), Some(0));
        assert_eq!(syscall_number("keyctl"), Some(libc::SYS_keyctl));
        assert_eq!(syscall_number("chown32"), None);
    }
}
