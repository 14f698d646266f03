//! Passing signals sent to `vessel run` on to the container.
//!
//! The terminal sends `SIGINT`/`SIGQUIT` (Ctrl-C, Ctrl-\) to the whole foreground process
//! group, which includes the container, so vessel ignores those. `SIGTERM` and `SIGHUP`
//! are meant for vessel's caller to stop the container, so vessel forwards them.

use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::{Error, Result};
use crate::lifecycle::{LifecycleError, LifecycleStep};
use crate::process::container::Running;

const FORWARDED: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
];

/// Holds the forwarded signals blocked and readable from a signalfd.
#[derive(Debug)]
pub struct Forwarder {
    signals: SignalFd,
}

fn sys(step: LifecycleStep) -> impl FnOnce(nix::Error) -> Error {
    move |e| LifecycleError::io(step)(e.into()).into()
}

impl Forwarder {
    /// Blocks the forwarded signals in this thread and opens a signalfd for them.
    pub fn install() -> Result<Forwarder> {
        let set: SigSet = FORWARDED.into_iter().collect();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(sys(LifecycleStep::BlockForwarded))?;
        let signals = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC)
            .map_err(sys(LifecycleStep::WatchForwarded))?;
        Ok(Forwarder { signals })
    }

    /// The signalfd, readable when a forwarded signal is pending: for callers with their
    /// own poll loop (`exec -t`), together with [`Forwarder::forward_pending`].
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.signals.as_fd()
    }

    /// Reads one pending signal and sends it to `running`. Signals a terminal sends are
    /// forwarded too: in `exec -t` the caller's terminal is raw and sends none.
    pub fn forward_pending(&self, running: &Running) {
        if let Ok(Some(info)) = self.signals.read_signal() {
            let _ = running.kill(info.ssi_signo as i32);
        }
    }

    /// Forwards signals until the container's first process exits (its pidfd becomes
    /// readable). Ctrl-C and Ctrl-\ from the terminal already reached the container, so
    /// they are only forwarded when they did not come from the kernel's tty driver.
    pub fn forward_until_exit(&self, running: &Running) -> Result<()> {
        loop {
            let mut fds = [
                PollFd::new(running.pidfd(), PollFlags::POLLIN),
                PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(sys(LifecycleStep::PollForwarded)(e)),
                Ok(_) => {}
            }
            let exited = fds[0].any().unwrap_or(false);
            if exited {
                return Ok(());
            }
            if let Ok(Some(info)) = self.signals.read_signal() {
                let signal = info.ssi_signo as i32;
                let from_tty = info.ssi_code == libc::SI_KERNEL;
                let terminal_signal = signal == libc::SIGINT || signal == libc::SIGQUIT;
                if !(terminal_signal && from_tty) {
                    // The container may already be gone: nothing to forward to then.
                    let _ = running.kill(signal);
                }
            }
        }
    }
}
