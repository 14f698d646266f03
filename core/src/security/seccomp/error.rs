//! What can go wrong reading or compiling a seccomp profile: its own leaf file, so the
//! crate error can wrap it without importing the compiler.

use std::path::PathBuf;

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
