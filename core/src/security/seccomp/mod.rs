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
//! ([`crate::process::plan::Step::Seccomp`]), as the last step before `execve` when
//! `no_new_privs` is set, or before the capabilities are dropped when it is not
//! (without `no_new_privs` installing a filter needs `CAP_SYS_ADMIN`).

pub mod compile;
pub mod default_profile;
pub(crate) mod error;
#[cfg(test)]
mod interpret;
pub mod oci_json;
pub mod profile;
mod syscalls_x86_64;

pub use compile::{Target, compile};
pub use default_profile::docker_default;
pub use error::SeccompError;
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
