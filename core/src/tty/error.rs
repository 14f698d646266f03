//! How a terminal fails: a leaf file, so that the crate error can wrap it without
//! reaching the pty and relay code.

use std::fmt;
use std::io;

/// Shorthand for results of terminal work.
pub type Result<T, E = TtyError> = std::result::Result<T, E>;

/// A pty, a terminal's settings or the relay could not be set up or kept going.
#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    /// The kernel refused a step.
    #[error("{step}")]
    Io {
        step: TtyStep,
        #[source]
        source: io::Error,
    },
    /// The console socket's message carried no descriptor.
    #[error("{}", TtyStep::ReceiveTerminal)]
    NothingReceived {
        #[source]
        reason: NothingSent,
    },
}

/// Why [`TtyError::NothingReceived`]: the container's side sent a message without the
/// terminal in it.
#[derive(Debug, thiserror::Error)]
#[error("the container sent no terminal")]
pub struct NothingSent;

impl TtyError {
    /// `step` failed with `source`.
    pub fn io(step: TtyStep) -> impl FnOnce(io::Error) -> TtyError {
        move |source| TtyError::Io { step, source }
    }

    /// `step` failed with the current `errno`.
    pub fn last_os(step: TtyStep) -> TtyError {
        TtyError::io(step)(io::Error::last_os_error())
    }
}

/// What was being done with a terminal when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyStep {
    /// `posix_openpt` of a new pty.
    OpenPty,
    /// `grantpt`/`unlockpt` of it.
    UnlockPty,
    /// Opening its slave from the master (`TIOCGPTPEER`).
    OpenPtyPeer,
    /// `tcgetattr` of the caller's terminal.
    GetCallerModes,
    /// `tcsetattr` of the caller's terminal.
    SetCallerModes,
    /// `tcgetattr` of the caller's stdout.
    GetStdoutModes,
    /// `tcsetattr` of the caller's stdout, output processing off.
    SetStdoutOutputAsIs,
    /// Duplicating the pty master for the relay.
    DupPtyMaster,
    /// Duplicating the caller's terminal.
    DupCaller,
    /// `poll` while relaying.
    PollRelay,
    /// Blocking `SIGWINCH`.
    BlockResize,
    /// A signalfd for `SIGWINCH`.
    WatchResize,
    /// The socket pair a container's terminal comes back through.
    ConsoleSocketPair,
    /// Receiving the container's terminal on it.
    ReceiveTerminal,
}

impl fmt::Display for TtyStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TtyStep::OpenPty => "posix_openpt (a new pty)",
            TtyStep::UnlockPty => "unlockpt (a new pty)",
            TtyStep::OpenPtyPeer => "ioctl(TIOCGPTPEER) (a new pty)",
            TtyStep::GetCallerModes => "tcgetattr (the caller's terminal)",
            TtyStep::SetCallerModes => "tcsetattr (the caller's terminal)",
            TtyStep::GetStdoutModes => "tcgetattr (the caller's stdout)",
            TtyStep::SetStdoutOutputAsIs => "tcsetattr (the caller's stdout, OPOST off)",
            TtyStep::DupPtyMaster => "dup the pty master",
            TtyStep::DupCaller => "dup the caller's terminal",
            TtyStep::PollRelay => "poll (relaying a terminal)",
            TtyStep::BlockResize => "sigprocmask (SIGWINCH)",
            TtyStep::WatchResize => "signalfd (SIGWINCH)",
            TtyStep::ConsoleSocketPair => "socketpair (a container's terminal)",
            TtyStep::ReceiveTerminal => "recvmsg (the container's terminal)",
        })
    }
}
