//! The shim's loop: copy the container's stdout and stderr into its log until it exits.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::log::{LogWriter, Stream};
use crate::process::container::Running;

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

/// Reads what the pipes hold now, and no more: a process the container left behind
/// (`--pid host`) may go on writing for ever, and the exit must still be recorded.
fn drain(pipes: Vec<(Stream, OwnedFd)>, buf: &mut [u8], log: &mut LogWriter) {
    for (stream, fd) in pipes {
        if set_nonblocking(&fd).is_err() {
            continue;
        }
        let mut left = buffered(&fd);
        while left > 0 {
            let want = left.min(buf.len());
            match nix::unistd::read(&fd, &mut buf[..want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = log.write(stream, &buf[..n]);
                    left -= n;
                }
            }
        }
    }
}

/// How many bytes the pipe holds right now (`FIONREAD`); 0 if that cannot be read.
fn buffered(fd: &OwnedFd) -> usize {
    let mut bytes: libc::c_int = 0;
    // SAFETY: FIONREAD on a pipe descriptor we own writes one int, to `bytes`.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut bytes) };
    if ret == -1 {
        return 0;
    }
    usize::try_from(bytes).unwrap_or(0)
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::pipe::Pipe;

    #[test]
    fn draining_after_the_exit_takes_what_is_buffered_not_what_keeps_coming() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = LogWriter::create(&path).unwrap();
        let pipe = Pipe::new().unwrap();
        let mut writer = std::fs::File::from(pipe.write);
        // 64 lines of 1 KiB: one default pipe-full.
        let block: Vec<u8> = (0..64)
            .flat_map(|_| [[b'y'; 1023].as_slice(), b"\n"].concat())
            .collect();
        let (full, is_full) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            // A process left behind that never stops writing: the pipe is full when the
            // drain starts, and refilled as fast as it is read (up to 64 MiB), until the
            // read end closes.
            scope.spawn(|| {
                for i in 0..1024 {
                    if std::io::Write::write_all(&mut writer, &block).is_err() {
                        break;
                    }
                    if i == 0 {
                        full.send(()).unwrap();
                    }
                }
            });
            is_full.recv().unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            drain(vec![(Stream::Stdout, pipe.read)], &mut buf, &mut log);
        });
        log.finish().unwrap();
        let (lines, _) =
            super::super::log::read_lines(std::fs::File::open(&path).unwrap()).unwrap();
        // What the pipe held when the drain began: one pipe-full, not what came after.
        assert!(
            (64..=2 * 64).contains(&lines.len()),
            "drained {} lines",
            lines.len()
        );
    }
}
