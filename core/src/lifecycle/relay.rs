//! The shim's loop: copy the container's stdout and stderr into its log until it exits.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::log::{LogWriter, Stream};
use crate::container::Running;

// ANCHOR: relay
/// Reads both pipes into `log` while the container runs. Once its pidfd says it has
/// exited, takes what is still buffered in the pipes and returns: a process it left
/// behind (possible without a PID namespace) may hold a pipe open for ever, and the log
/// must not wait for it.
pub fn relay(stdout: OwnedFd, stderr: OwnedFd, running: &Running, log: &mut LogWriter) {
    let mut pipes: Vec<(Stream, OwnedFd)> =
        vec![(Stream::Stdout, stdout), (Stream::Stderr, stderr)];
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds = vec![PollFd::new(running.pidfd(), PollFlags::POLLIN)];
        fds.extend(
            pipes
                .iter()
                .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN)),
        );
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(_) => break,
            Ok(_) => {}
        }
        let exited = fds[0].any().unwrap_or(true);
        let ready: Vec<bool> = fds[1..].iter().map(|f| f.any().unwrap_or(true)).collect();
        drop(fds);
        let mut open = Vec::new();
        for ((stream, fd), ready) in pipes.into_iter().zip(ready) {
            if !ready || copy_once(&fd, stream, &mut buf, log) {
                open.push((stream, fd));
            }
        }
        pipes = open;
        if exited {
            drain(pipes, &mut buf, log);
            break;
        }
    }
    let _ = log.finish();
}
// ANCHOR_END: relay

/// One read from `fd` into the log; false at end-of-file or on an error.
fn copy_once(fd: &OwnedFd, stream: Stream, buf: &mut [u8], log: &mut LogWriter) -> bool {
    match nix::unistd::read(fd, buf) {
        Ok(0) => false,
        Ok(n) => {
            let _ = log.write(stream, &buf[..n]);
            true
        }
        Err(nix::Error::EINTR | nix::Error::EAGAIN) => true,
        Err(_) => false,
    }
}

/// Reads what the pipes hold now, without waiting for more.
fn drain(pipes: Vec<(Stream, OwnedFd)>, buf: &mut [u8], log: &mut LogWriter) {
    for (stream, fd) in pipes {
        if set_nonblocking(&fd).is_err() {
            continue;
        }
        loop {
            match nix::unistd::read(&fd, buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = log.write(stream, &buf[..n]);
                }
            }
        }
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(())
}
