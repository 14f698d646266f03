//! The caller's side of `--console-socket`: a Unix socket the suite listens on, to which
//! the runtime connects and sends the master of the container's pty as `SCM_RIGHTS`, as
//! conmon and containerd's shim receive it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Listens on `path` and, on a thread, receives one descriptor within `within`.
pub fn receive_one(
    path: &Path,
    within: Duration,
) -> Result<JoinHandle<Result<OwnedFd, String>>, String> {
    let listener =
        UnixListener::bind(path).map_err(|e| format!("listen on {}: {e}", path.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("make the console socket non-blocking: {e}"))?;
    Ok(std::thread::spawn(move || {
        let deadline = Instant::now() + within;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(format!(
                            "nobody connected to the console socket within {within:?}"
                        ));
                    }
                    // Readable means a connection waits to be accepted.
                    crate::runtime::oci_lifecycle::readable(
                        listener.as_raw_fd(),
                        left.as_millis() as i32,
                    )?;
                }
                Err(e) => return Err(format!("accept on the console socket: {e}")),
            }
        };
        stream
            .set_nonblocking(false)
            .and_then(|()| stream.set_read_timeout(Some(within)))
            .map_err(|e| format!("console socket: {e}"))?;
        receive_fd(stream.as_raw_fd())
    }))
}

/// `recvmsg` of one message carrying one descriptor.
fn receive_fd(socket: i32) -> Result<OwnedFd, String> {
    let mut byte = [0u8; 256];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: byte.len(),
    };
    // Room for one cmsghdr and one int, aligned as cmsghdr wants.
    let mut space = [0u64; 8];
    // SAFETY: msghdr is plain data; zeroed is a valid "no name, no buffers" value that
    // the fields set below complete.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&space);
    // SAFETY: `msg` points at `iov` and `space`, both live and writable for their lengths.
    let n = unsafe { libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(format!(
            "recvmsg on the console socket: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: CMSG_FIRSTHDR reads msg_control and msg_controllen, which recvmsg set.
    let header = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    let (level, kind) = if header.is_null() {
        (0, 0)
    } else {
        // SAFETY: a non-null header from CMSG_FIRSTHDR points at a whole cmsghdr inside
        // `space`, which recvmsg filled.
        unsafe { ((*header).cmsg_level, (*header).cmsg_type) }
    };
    if level != libc::SOL_SOCKET || kind != libc::SCM_RIGHTS {
        return Err("the console socket's message carried no descriptor (no SCM_RIGHTS)".into());
    }
    // SAFETY: an SCM_RIGHTS message carries at least one int after its header, which
    // recvmsg installed in our table; we own it from here.
    let fd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<i32>()) };
    // SAFETY: as above: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The pty number of `fd` if it is a pty master (`TIOCGPTN` works only on a master).
pub fn pty_number(fd: &OwnedFd) -> Result<u32, String> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int, `number`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGPTN, &mut number) } < 0 {
        return Err(format!(
            "the descriptor is not a pty master (TIOCGPTN: {})",
            std::io::Error::last_os_error()
        ));
    }
    Ok(number)
}

/// The window size of the terminal `fd` (rows, columns).
pub fn window_size(fd: &OwnedFd) -> Result<(u16, u16), String> {
    // SAFETY: winsize is plain data.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize, `size`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } < 0 {
        return Err(format!("TIOCGWINSZ: {}", std::io::Error::last_os_error()));
    }
    Ok((size.ws_row, size.ws_col))
}
