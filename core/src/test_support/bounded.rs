//! Waits with a bound, for tests: a test that waits for a line or an exit that never
//! comes must fail with a message, not hang CI. The bounds are generous limits on a
//! failing test, never measurements (`DESIGN.md`: no timed tests).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a test waits for a line or an exit before it fails: far beyond what any
/// step of a working test takes, even on a loaded two-core machine.
pub const BOUND: Duration = Duration::from_secs(60);

/// Waits until `fd` is readable (data or end-of-file) or `deadline` passes; false then.
pub fn readable_before(fd: BorrowedFd<'_>, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut entry = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd that outlives the call.
        match unsafe { libc::poll(&mut entry, 1, millis) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            -1 => return Err(io::Error::last_os_error()),
            0 => return Ok(false),
            _ => return Ok(true),
        }
    }
}

/// Lines read from a pipe, each within a bound.
#[derive(Debug)]
pub struct BoundedLines {
    reader: BufReader<File>,
    bound: Duration,
}

impl BoundedLines {
    /// Lines of `pipe`, each awaited at most `bound`.
    pub fn new(pipe: impl Into<OwnedFd>, bound: Duration) -> BoundedLines {
        BoundedLines {
            reader: BufReader::new(File::from(pipe.into())),
            bound,
        }
    }

    /// The next line without its newline; `None` at end-of-file; an error of kind
    /// `TimedOut` if no whole line came within the bound.
    pub fn next_line(&mut self) -> io::Result<Option<String>> {
        let deadline = Instant::now() + self.bound;
        let mut line = Vec::new();
        loop {
            if self.reader.buffer().is_empty()
                && !readable_before(self.reader.get_ref().as_fd(), deadline)?
            {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no line within {:?} (so far: {:?})",
                        self.bound,
                        String::from_utf8_lossy(&line)
                    ),
                ));
            }
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into()));
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    line.extend_from_slice(&available[..end]);
                    self.reader.consume(end + 1);
                    return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
                }
                None => {
                    let all = available.len();
                    line.extend_from_slice(available);
                    self.reader.consume(all);
                }
            }
        }
    }
}

/// Waits for `child` to exit, at most `bound`; `None` if it is still running then (the
/// caller decides whether to kill it). Uses a pidfd, so no polling loop and no sleep.
pub fn wait_within(child: &mut Child, bound: Duration) -> io::Result<Option<ExitStatus>> {
    if let Some(status) = child.try_wait()? {
        return Ok(Some(status));
    }
    let pidfd = crate::sys::pidfd::open(child.id() as libc::pid_t)?;
    if !readable_before(pidfd.as_fd(), Instant::now() + bound)? {
        return Ok(None);
    }
    child.wait().map(Some)
}

/// `command`'s output, as [`std::process::Command::output`] gives it, if it exits within
/// `bound`; otherwise it is killed and the error says so. stdout and stderr are read on
/// threads of their own, so a full pipe cannot stall the command.
pub fn output_within(
    command: &mut std::process::Command,
    bound: Duration,
) -> io::Result<std::process::Output> {
    use std::process::Stdio;
    use std::sync::mpsc;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + bound;
    let (sender, received) = mpsc::channel();
    for (stream, pipe) in [
        (1, child.stdout.take().map(OwnedFd::from)),
        (2, child.stderr.take().map(OwnedFd::from)),
    ] {
        let sender = sender.clone();
        let mut file = File::from(pipe.expect("piped"));
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let read = io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes);
            let _ = sender.send((stream, read));
        });
    }
    drop(sender);
    let Some(status) = wait_within(&mut child, bound)? else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{command:?} did not exit within {bound:?} (killed)"),
        ));
    };
    let mut output = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        // Something it started (a daemon) may still hold the pipes: bounded as well.
        let (stream, read) = received.recv_timeout(left).map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{command:?} exited but its output stayed open past {bound:?}"),
            )
        })?;
        *(if stream == 1 {
            &mut output.stdout
        } else {
            &mut output.stderr
        }) = read?;
    }
    Ok(output)
}

/// Reads from `file` into `seen` until `done(seen)` holds, the file ends (or fails, as a
/// pty master does with EIO once the last slave is closed), or `bound` has passed: then
/// an error of kind `TimedOut`, with `seen` keeping what came.
pub fn read_within(
    file: &mut File,
    seen: &mut Vec<u8>,
    bound: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> io::Result<()> {
    let deadline = Instant::now() + bound;
    let mut buf = [0u8; 4096];
    while !done(seen) {
        if !readable_before(file.as_fd(), deadline)? {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("still reading after {bound:?}"),
            ));
        }
        match io::Read::read(file, &mut buf) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    Ok(())
}
