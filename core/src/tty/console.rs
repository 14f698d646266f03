//! The container's own terminal for `vessel run -t` and `vessel exec -t`, allocated
//! *inside* the container.
//!
//! Why not a pty from the host's `/dev/ptmx`? A pty belongs to the
//! devpts instance it came from. The container mounts a private devpts instance on
//! `/dev/pts` (see [`crate::process::plan`]'s `/dev`), so a host pty is a stranger there: `tty`
//! prints "not a tty" (its `/dev/pts/N` names the wrong device, or none), and programs
//! that look their terminal up by name fail. A pty opened from the container's own
//! `/dev/pts/ptmx` is `/dev/pts/0` inside, listed in its `/dev/pts`, and invisible to the
//! host and to other containers. runc does the same with its "console socket".
//!
//! So the child opens it, as one pre-planned step once it is inside the container's root
//! (after `pivot_root` for `run -t`, after joining the root for `exec -t`: see
//! [`crate::process::tenant`]), with async-signal-safe system calls only (no allocation), and
//! sends the *master* back to vessel over a Unix socket (`SCM_RIGHTS`); the slave becomes its stdin, stdout and stderr. The next
//! step, [`Step::TakeTerminal`](crate::process::plan::Step::TakeTerminal), makes it the
//! controlling terminal of a new session.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::error::{NothingSent, Result, TtyError, TtyStep};

/// What the child needs to open the container's terminal, decided by the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalRequest {
    /// The child's end of the socket the master goes back through.
    pub socket: RawFd,
    /// The terminal's size in character rows, set before the command starts: a
    /// `stty size` right at start-up already sees the caller's size.
    pub rows: u16,
    /// Columns, likewise.
    pub cols: u16,
}

/// The parent's side: a socket pair whose far end the child sends the master through.
#[derive(Debug)]
pub struct ConsoleSocket {
    ours: OwnedFd,
    theirs: OwnedFd,
}

impl ConsoleSocket {
    /// A new `AF_UNIX` datagram-like pair (`SOCK_SEQPACKET`: one message, whole).
    pub fn new() -> Result<ConsoleSocket> {
        let mut fds = [-1; 2];
        // SAFETY: socketpair writes two new descriptors into the two-element array.
        let ret = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if ret == -1 {
            return Err(TtyError::last_os(TtyStep::ConsoleSocketPair));
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(ConsoleSocket { ours, theirs })
    }

    /// The request to plan into the child, with the terminal size `(rows, cols)`.
    /// The socket must stay alive until the container has started.
    pub fn request(&self, (rows, cols): (u16, u16)) -> TerminalRequest {
        TerminalRequest {
            socket: self.theirs.as_raw_fd(),
            rows,
            cols,
        }
    }

    /// Receives the master the child sent. Call once the container has started: the
    /// step that sends it ran before `execve`, so the message is already waiting.
    pub fn receive_master(self) -> Result<OwnedFd> {
        // Our copy of the child's end goes first: if no message came, recvmsg then
        // returns end-of-file instead of waiting for ever.
        drop(self.theirs);
        let mut byte = 0u8;
        let mut iov = libc::iovec {
            iov_base: (&raw mut byte).cast(),
            iov_len: 1,
        };
        let mut control = ControlBuffer::default();
        // SAFETY: an all-zero msghdr is valid (no name, no buffers); we fill it below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control.0);
        // SAFETY: `msg` points at `iov`, `byte` and `control`, all live for the call.
        let n = unsafe { libc::recvmsg(self.ours.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n == -1 {
            return Err(TtyError::last_os(TtyStep::ReceiveTerminal));
        }
        // SAFETY: CMSG_FIRSTHDR reads msg_control/msg_controllen set by recvmsg.
        let header = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        // SAFETY: a non-null header points into `control`, filled in by the kernel.
        if header.is_null() || unsafe { (*header).cmsg_type } != libc::SCM_RIGHTS {
            return Err(TtyError::NothingReceived {
                reason: NothingSent,
            });
        }
        // SAFETY: an SCM_RIGHTS message carries at least one descriptor after its
        // header; read_unaligned because CMSG_DATA need not be aligned for c_int.
        let master = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<RawFd>()) };
        // SAFETY: the kernel installed this descriptor in our table for us alone.
        Ok(unsafe { OwnedFd::from_raw_fd(master) })
    }
}

/// Room for one control message carrying one descriptor, aligned for `cmsghdr`.
#[derive(Default)]
struct ControlBuffer([u64; 4]);

const _: () = assert!(
    // SAFETY: CMSG_SPACE is plain arithmetic on its argument.
    unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize
        <= std::mem::size_of::<ControlBuffer>()
);

/// Like [`crate::sys::errno::check`], keeping the value (a new descriptor).
fn check(ret: libc::c_long) -> std::result::Result<libc::c_long, i32> {
    if ret == -1 {
        Err(crate::sys::errno::errno())
    } else {
        Ok(ret)
    }
}

// ANCHOR: open_in_child
/// In the child, inside the container's root: opens a pty on the container's own
/// devpts, sizes it, sends the master to the parent and installs the slave as fds 0, 1
/// and 2.
/// Async-signal-safe system calls on stack memory only; returns the errno to report.
pub(crate) fn open_in_child(request: &TerminalRequest) -> std::result::Result<(), i32> {
    // SAFETY: a static C string; the flags ask for a new descriptor.
    let master = check(
        unsafe {
            libc::open(
                c"/dev/pts/ptmx".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        }
        .into(),
    )? as RawFd;
    let unlocked: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int (0: unlock) from the pointer, a live local.
    check(unsafe { libc::ioctl(master, libc::TIOCSPTLCK, &unlocked) }.into())?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor of the slave.
    let slave = check(
        unsafe { libc::ioctl(master, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY) }.into(),
    )? as RawFd;
    let size = libc::winsize {
        ws_row: request.rows,
        ws_col: request.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer, a live local.
    check(unsafe { libc::ioctl(slave, libc::TIOCSWINSZ, &size) }.into())?;
    send_fd(request.socket, master)?;
    for to in 0..3 {
        // SAFETY: `slave` is the descriptor opened above; dup2 replaces `to` atomically.
        check(unsafe { libc::dup2(slave, to) }.into())?;
    }
    // SAFETY: the master went to the parent, the slave now lives on as 0, 1 and 2;
    // this process uses neither descriptor again.
    unsafe {
        libc::close(master);
        if slave > 2 {
            libc::close(slave);
        }
    }
    Ok(())
}
// ANCHOR_END: open_in_child

/// `sendmsg` of one byte with `fd` attached as `SCM_RIGHTS`; the buffers are on the stack.
fn send_fd(socket: RawFd, fd: RawFd) -> std::result::Result<(), i32> {
    let mut byte = 0u8;
    let mut iov = libc::iovec {
        iov_base: (&raw mut byte).cast(),
        iov_len: 1,
    };
    let mut control = ControlBuffer([0; 4]);
    // SAFETY: an all-zero msghdr is valid (no name, no buffers); we fill it below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE and CMSG_LEN are plain arithmetic.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    // SAFETY: msg_control points at `control`, large enough (checked at compile time)
    // and aligned for cmsghdr; CMSG_FIRSTHDR and CMSG_DATA only compute pointers into it.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), fd);
    }
    // SAFETY: `msg` points at `iov`, `byte` and `control`, all live for the call.
    check(unsafe { libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) } as libc::c_long).map(|_| ())
}
