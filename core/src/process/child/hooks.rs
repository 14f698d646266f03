//! Running one OCI hook from the child (`createContainer`, `startContainer`): write the
//! state into the memfd, fork, exec the hook with the memfd as stdin, wait (at most the
//! hook's timeout, then SIGKILL).
//!
//! Same rules as [`crate::process::child`]: between `clone` and `execve`, so only
//! async-signal-safe system calls on memory the parent prepared. `fork` is the raw
//! `clone` system call, not glibc's `fork()`, which runs the atfork handlers and takes the
//! allocator's locks; and `clone`, not `clone3`, which docker's seccomp profile answers
//! with ENOSYS (a `startContainer` hook runs under the container's filter).

use crate::process::plan::step::HookStep;
use crate::sys::errno::{check, errno};

// ANCHOR: hook_failure
/// Why a hook failed, as the report pipe carries it: `errno` for a system call that
/// failed (the hook's own `execve` included), 0 when the hook ran and exited unsuccessfully,
/// `ETIMEDOUT` when it was killed at its timeout; `status` the hook's wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookFailure {
    /// The failing call's errno, 0 or `ETIMEDOUT`.
    pub errno: i32,
    /// The hook's wait status (0 when it never ran).
    pub status: i32,
}
// ANCHOR_END: hook_failure

impl HookFailure {
    fn call(errno: i32) -> HookFailure {
        HookFailure { errno, status: 0 }
    }
}

// ANCHOR: run_hook_in_child
/// Runs `hook` to its end.
pub fn run(hook: &HookStep) -> Result<(), HookFailure> {
    write_state(hook).map_err(HookFailure::call)?;
    // Close-on-exec: the hook's successful execve closes its copy, so end-of-file here
    // means it runs; four bytes mean its execve failed with that errno.
    let mut exec_check = [0 as libc::c_int; 2];
    // SAFETY: `exec_check` is a live array of two ints for the new descriptors.
    check(unsafe { libc::pipe2(exec_check.as_mut_ptr(), libc::O_CLOEXEC) }.into())
        .map_err(HookFailure::call)?;
    let [check_read, check_write] = exec_check;
    let mut pidfd: libc::c_int = -1;
    let flags = (libc::CLONE_PIDFD | libc::SIGCHLD) as libc::c_ulong;
    let none: libc::c_ulong = 0;
    // `clone` without CLONE_VM and without a stack is `fork` (CLONE_PIDFD stores the
    // pidfd through the parent_tid argument).
    // SAFETY: the new process runs on a copy of this stack and only `exec_hook`
    // (async-signal-safe calls ending in execve or _exit); `pidfd` is a live int.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, none, &raw mut pidfd, none, none) };
    if pid == 0 {
        exec_hook(hook, check_write);
    }
    let forked = errno();
    close(check_write);
    if pid == -1 {
        close(check_read);
        return Err(HookFailure::call(forked));
    }
    let pid = pid as libc::pid_t;
    let exec_errno = read_exec_check(check_read);
    close(check_read);
    let waited = wait(
        pid,
        pidfd,
        if exec_errno == 0 {
            hook.timeout_ms
        } else {
            None
        },
    );
    close(pidfd);
    let (status, timed_out) = waited.map_err(HookFailure::call)?;
    if exec_errno != 0 {
        Err(HookFailure::call(exec_errno))
    } else if timed_out {
        Err(HookFailure {
            errno: libc::ETIMEDOUT,
            status,
        })
    } else if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(HookFailure { errno: 0, status })
    }
}
// ANCHOR_END: run_hook_in_child

/// In the new process: the state as stdin, docker's umask, then the hook. Never returns.
fn exec_hook(hook: &HookStep, check_write: libc::c_int) -> ! {
    // SAFETY: `state_fd` is the plan's memfd, open in this process; dup2 onto 0 leaves
    // the copy without close-on-exec, so the hook inherits it as stdin.
    let mut failed = check(unsafe { libc::dup2(hook.state_fd, 0) }.into()).err();
    if failed.is_none() {
        // SAFETY: umask only swaps the process's file mode mask.
        unsafe { libc::umask(0o022) };
        // SAFETY: `path` is a NUL-terminated string and `argv`/`envp` null-terminated
        // arrays of pointers into strings the plan owns, all alive (this process holds a
        // copy of the plan); execve only returns on failure.
        unsafe { libc::execve(hook.path.as_ptr(), hook.argv.as_ptr(), hook.envp.as_ptr()) };
        failed = Some(errno());
    }
    let bytes = failed.unwrap_or(libc::EINVAL).to_ne_bytes();
    // SAFETY: `check_write` is the exec-check pipe's write end, open in this process;
    // `bytes` is a live 4-byte buffer (under PIPE_BUF, so written whole or not at all).
    unsafe { libc::write(check_write, bytes.as_ptr().cast(), bytes.len()) };
    // SAFETY: _exit ends this process without running anything of the copied state.
    unsafe { libc::_exit(127) }
}

/// Rewrites the memfd with the state: the parent's bytes around this process's pid as
/// it sees itself (1 in a PID namespace of its own), then rewinds it for the hook.
fn write_state(hook: &HookStep) -> Result<(), i32> {
    // SAFETY: getpid has no preconditions (glibc no longer caches it).
    let pid = unsafe { libc::getpid() };
    let mut digits = [0u8; 10];
    let pid = decimal(pid.unsigned_abs(), &mut digits);
    let fd = hook.state_fd;
    let mut offset = 0;
    for part in [
        hook.state.before_pid.as_slice(),
        pid,
        hook.state.after_pid.as_slice(),
    ] {
        write_all_at(fd, part, offset)?;
        offset += part.len();
    }
    // SAFETY: `fd` is the plan's memfd; truncating drops a longer earlier document.
    check(unsafe { libc::ftruncate(fd, offset as libc::off_t) }.into())?;
    // SAFETY: the same memfd; its offset is shared with the hook's stdin.
    check(unsafe { libc::lseek(fd, 0, libc::SEEK_SET) })
}

fn write_all_at(fd: libc::c_int, mut bytes: &[u8], mut offset: usize) -> Result<(), i32> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live buffer of the given length; `fd` is the memfd.
        let n = unsafe {
            libc::pwrite(
                fd,
                bytes.as_ptr().cast(),
                bytes.len(),
                offset as libc::off_t,
            )
        };
        match n {
            -1 if errno() == libc::EINTR => continue,
            -1 => return Err(errno()),
            0 => return Err(libc::EIO),
            n => {
                let n = n.unsigned_abs();
                bytes = bytes.get(n..).unwrap_or(&[]);
                offset += n;
            }
        }
    }
    Ok(())
}

/// `n` in decimal, in the tail of `buf`, without allocating.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or(&[])
}

/// 0 when the hook's execve succeeded (end-of-file), else the errno it sent.
fn read_exec_check(fd: libc::c_int) -> i32 {
    let mut bytes = [0u8; 4];
    loop {
        // SAFETY: `fd` is the exec-check pipe's read end; `bytes` a live 4-byte buffer.
        let n = unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), bytes.len()) };
        match n {
            4 => return i32::from_ne_bytes(bytes),
            -1 if errno() == libc::EINTR => continue,
            _ => return 0,
        }
    }
}

/// Waits for the hook; after `timeout_ms` kills it first. Returns its wait status and
/// whether it was killed for the timeout.
fn wait(
    pid: libc::pid_t,
    pidfd: libc::c_int,
    timeout_ms: Option<libc::c_int>,
) -> Result<(i32, bool), i32> {
    let timed_out = match timeout_ms {
        Some(ms) => !exits_within(pidfd, ms)?,
        None => false,
    };
    if timed_out {
        // SAFETY: `pid` is our own unreaped child, so the number cannot be recycled.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live int; `pid` is our own unreaped child.
        let ret = unsafe { libc::waitpid(pid, &mut status, 0) };
        if ret == pid {
            return Ok((status, timed_out));
        }
        if errno() != libc::EINTR {
            return Err(errno());
        }
    }
}

/// Polls the hook's pidfd (readable once it exits) for at most `ms` milliseconds.
fn exits_within(pidfd: libc::c_int, ms: libc::c_int) -> Result<bool, i32> {
    let deadline = now_ms().saturating_add(i64::from(ms));
    loop {
        let left = deadline
            .saturating_sub(now_ms())
            .clamp(0, i64::from(libc::c_int::MAX));
        let mut poll = libc::pollfd {
            fd: pidfd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `poll` is one live pollfd; the count says one.
        match unsafe { libc::poll(&mut poll, 1, left as libc::c_int) } {
            -1 if errno() == libc::EINTR => continue,
            -1 => return Err(errno()),
            0 => return Ok(false),
            _ => return Ok(true),
        }
    }
}

/// CLOCK_MONOTONIC in milliseconds (clock_gettime is async-signal-safe).
fn now_ms() -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a live timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec
        .saturating_mul(1000)
        .saturating_add(now.tv_nsec / 1_000_000)
}

fn close(fd: libc::c_int) {
    // SAFETY: `fd` is a descriptor this function's caller opened and uses no more.
    unsafe { libc::close(fd) };
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_writes_every_digit() {
        let mut buf = [0u8; 10];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(1, &mut buf), b"1");
        assert_eq!(decimal(4_194_304, &mut buf), b"4194304");
        assert_eq!(decimal(u32::MAX, &mut buf), b"4294967295");
    }
}
