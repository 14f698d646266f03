//! What the probe can be asked to *do* besides reporting: make an orphan, burn CPU, eat
//! memory, fork until refused, write a file, try the chroot breakout. Each action prints
//! one JSON object saying what happened; the suite judges it.

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;

use crate::json::Object;
use crate::report::root_identity;

fn errno() -> i64 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(0)
        .into()
}

fn c(path: &str) -> CString {
    CString::new(path).unwrap_or_default()
}

fn pipe() -> (i32, i32) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    (fds[0], fds[1])
}

fn close(fd: i32) {
    // SAFETY: the caller owns `fd` and does not use it afterwards.
    unsafe { libc::close(fd) };
}

/// Blocks until every write end of `fd`'s pipe is closed.
fn read_until_eof(fd: i32) {
    let mut byte = 0u8;
    // SAFETY: `byte` is one writable byte; read returns 0 at end-of-file, -1 on error.
    while unsafe { libc::read(fd, (&raw mut byte).cast(), 1) } > 0 {}
}

/// fork(2); the probe is single-threaded, so the child may do anything.
fn fork() -> i32 {
    // SAFETY: the probe has one thread, so the child inherits no lock held elsewhere.
    unsafe { libc::fork() }
}

fn exit_now(code: i32) -> ! {
    let _ = io::stdout().flush();
    // SAFETY: _exit ends the process at once; nothing else runs after it.
    unsafe { libc::_exit(code) }
}

/// Waits for `pid` (-1: any child); returns (pid, raw status) or (-1, 0).
fn wait(pid: i32) -> (i32, i32) {
    let mut status = 0;
    // SAFETY: `status` is a live int waitpid may write.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    (got, status)
}

/// A child makes a grandchild and exits: whom does the orphan get as its parent, and
/// does that parent (this probe, when it is PID 1) reap it?
///
/// The grandchild asks for SIGUSR1 when its parent dies (`PR_SET_PDEATHSIG`): the kernel
/// sends it only after re-parenting, so `getppid` then names the new parent. (Waiting
/// for the parent's pipe to close is too early: an exiting process closes its files
/// before its children are handed on.)
pub fn orphan() -> Object {
    let (ppid_read, ppid_write) = pipe();
    let (ready_read, ready_write) = pipe();
    let child = fork();
    if child == 0 {
        if fork() == 0 {
            let mut usr1 = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            // SAFETY: sigemptyset initialises the set before sigaddset and sigprocmask
            // read it; PR_SET_PDEATHSIG takes a signal number.
            let set = unsafe {
                libc::sigemptyset(usr1.as_mut_ptr());
                libc::sigaddset(usr1.as_mut_ptr(), libc::SIGUSR1);
                libc::sigprocmask(libc::SIG_BLOCK, usr1.as_ptr(), std::ptr::null_mut());
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGUSR1 as libc::c_ulong,
                    0,
                    0,
                    0,
                );
                usr1.assume_init()
            };
            close(ready_write); // the child may exit now: the death signal is armed
            let mut signal = 0;
            // SAFETY: `set` is an initialised signal set and `signal` a live int.
            unsafe { libc::sigwait(&set, &mut signal) };
            // SAFETY: getppid has no preconditions.
            let ppid = unsafe { libc::getppid() };
            let bytes = ppid.to_ne_bytes();
            // SAFETY: `bytes` is readable for its length.
            unsafe { libc::write(ppid_write, bytes.as_ptr().cast(), bytes.len()) };
            exit_now(0);
        }
        close(ready_write);
        read_until_eof(ready_read);
        exit_now(0);
    }
    close(ready_write);
    close(ppid_write);
    wait(child);
    let mut bytes = [0u8; 4];
    // SAFETY: `bytes` is writable for its length.
    let n = unsafe { libc::read(ppid_read, bytes.as_mut_ptr().cast(), bytes.len()) };
    close(ppid_read);
    close(ready_read);
    let (reaped, _) = wait(-1);
    let mut o = Object::kind("orphan");
    o.int(
        "orphan_ppid",
        if n == 4 {
            i32::from_ne_bytes(bytes).into()
        } else {
            -1
        },
    )
    .bool("reaped", reaped > 0);
    o
}

/// Leaves a child that never exits by itself: it must die with the container.
pub fn background() -> Object {
    let pid = fork();
    if pid == 0 {
        loop {
            // SAFETY: pause only sleeps until a signal arrives.
            unsafe { libc::pause() };
        }
    }
    let mut o = Object::kind("background");
    o.int("background_pid", pid.into());
    o
}

fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live timespec for clock_gettime to fill in.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Burns CPU until `millis` of wall time passed; reports wall and CPU time used.
pub fn spin(millis: i64) -> Object {
    let start = clock_ns(libc::CLOCK_MONOTONIC);
    let cpu_start = clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID);
    let mut x = 0u64;
    while clock_ns(libc::CLOCK_MONOTONIC) - start < millis * 1_000_000 {
        for i in 0..10_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    let mut o = Object::kind("spin");
    o.int("wall_ns", clock_ns(libc::CLOCK_MONOTONIC) - start)
        .int(
            "cpu_ns",
            clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu_start,
        );
    o
}

/// A child touches `bytes` of fresh memory; reports how it ended.
pub fn eat(bytes: usize) -> Object {
    let child = fork();
    if child == 0 {
        let mut memory: Vec<u8> = Vec::with_capacity(bytes);
        // Touch one byte per page so the pages are really charged to the cgroup.
        for page in (0..bytes).step_by(4096) {
            memory.resize(page + 1, 0);
            memory[page] = 1;
        }
        std::hint::black_box(&memory);
        exit_now(0);
    }
    let (_, status) = wait(child);
    let mut o = Object::kind("eat");
    o.int(
        "exit_code",
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status).into()
        } else {
            -1
        },
    )
    .int(
        "signal",
        if libc::WIFSIGNALED(status) {
            libc::WTERMSIG(status).into()
        } else {
            0
        },
    );
    o
}

/// Forks up to `count` children that wait on a pipe, then lets them go: how many forks
/// succeeded, and the errno of the first refusal.
pub fn forks(count: usize) -> Object {
    let (read, write) = pipe();
    let mut forked = 0;
    let mut refused = 0;
    for _ in 0..count {
        match fork() {
            0 => {
                close(write);
                read_until_eof(read);
                exit_now(0);
            }
            -1 => {
                refused = errno();
                break;
            }
            _ => forked += 1,
        }
    }
    close(write);
    close(read);
    for _ in 0..forked {
        wait(-1);
    }
    let mut o = Object::kind("forks");
    o.int("forked", forked).int("errno", refused);
    o
}

/// Writes a small file at `path`.
pub fn write(path: &str) -> Object {
    let mut o = Object::kind("write");
    let errno = match fs::write(path, "written by vessel-probe\n") {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1).into(),
    };
    o.str("path", path).int("errno", errno);
    o
}

/// Owner and mode of `path`, as the container sees them.
pub fn stat(path: &str) -> Object {
    let mut o = Object::kind("stat");
    o.str("path", path);
    match fs::symlink_metadata(path) {
        Ok(m) => o
            .int("uid", m.uid().into())
            .int("gid", m.gid().into())
            .int("errno", 0),
        Err(e) => o.int("errno", e.raw_os_error().unwrap_or(-1).into()),
    };
    o
}

/// The classic chroot escape, in a child: chroot into a subdirectory while the working
/// directory stays outside it, climb with `..` as far as the kernel allows, chroot there.
/// Under `chroot` that reaches the host's root; after `pivot_root` and detaching the old
/// root there is nothing above the container's `/` to reach.
pub fn breakout(paths: &[String]) -> String {
    let (read, write) = pipe();
    let child = fork();
    if child == 0 {
        close(read);
        let before = root_identity();
        let mut o = Object::kind("breakout");
        // SAFETY: the argument is a NUL-terminated string that outlives the call.
        let chrooted = unsafe { libc::chroot(c"/dev".as_ptr()) };
        o.int("chroot_errno", if chrooted == 0 { 0 } else { errno() });
        for _ in 0..64 {
            // SAFETY: as above.
            unsafe { libc::chdir(c"..".as_ptr()) };
        }
        // SAFETY: as above.
        unsafe { libc::chroot(c".".as_ptr()) };
        let after = root_identity();
        o.str("root_before", &before)
            .str("root_after", &after)
            .bool("escaped", chrooted == 0 && before != after);
        let mut reach = Object::default();
        for path in paths {
            reach.bool(path, fs::symlink_metadata(path).is_ok());
        }
        o.object("paths", &reach);
        let line = o.render() + "\n";
        // SAFETY: `line` is readable for its length.
        unsafe { libc::write(write, line.as_ptr().cast(), line.len()) };
        exit_now(0);
    }
    close(write);
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        text.extend_from_slice(&buf[..n as usize]);
    }
    close(read);
    wait(child);
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    if text.is_empty() {
        let mut o = Object::kind("breakout");
        o.str("error", "the breakout child reported nothing");
        return o.render();
    }
    text
}

/// Mounts a tmpfs at `path` (inside the container): the host must never see it.
pub fn mount_tmpfs(path: &str) -> Object {
    let target = c(path);
    // SAFETY: every pointer is a NUL-terminated string that outlives the call; tmpfs
    // takes no data.
    let ret = unsafe {
        libc::mount(
            c"probe".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    let mut o = Object::kind("mount");
    o.str("path", path)
        .int("errno", if ret == 0 { 0 } else { errno() });
    o
}

/// Sets the hostname inside: the host's must not change.
pub fn sethostname(name: &str) -> Object {
    // SAFETY: `name` is readable for its length.
    let ret = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    let mut o = Object::kind("sethostname");
    o.int("errno", if ret == 0 { 0 } else { errno() });
    o
}

/// A child sends SIGKILL to PID 1 from inside the namespace; the kernel protects a
/// namespace's init from signals it has no handler for, sent from inside.
pub fn kill_init() -> Object {
    let mut o = Object::kind("kill_init");
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != 1 {
        // Not a namespace's init: never signal the host's (or anyone's) PID 1.
        o.bool("sent", false).str("error", "the probe is not PID 1");
        return o;
    }
    let child = fork();
    if child == 0 {
        // SAFETY: kill has no memory arguments.
        let ret = unsafe { libc::kill(1, libc::SIGKILL) };
        exit_now(if ret == 0 { 0 } else { 1 });
    }
    let (_, status) = wait(child);
    o.bool(
        "sent",
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    )
    .bool("survived", true);
    o
}

/// Whether a pid from outside (the host's numbering) names a process here.
pub fn signal0(pid: i32) -> Object {
    // SAFETY: signal 0 only checks that the target exists; nothing is delivered.
    let ret = unsafe { libc::kill(pid, 0) };
    let mut o = Object::kind("signal0");
    o.int("pid", pid.into())
        .int("errno", if ret == 0 { 0 } else { errno() });
    o
}

/// The three clocks a time namespace may or may not shift, read now.
pub fn clocks() -> Object {
    let mut o = Object::kind("clocks");
    o.int("realtime_ns", clock_ns(libc::CLOCK_REALTIME))
        .int("monotonic_ns", clock_ns(libc::CLOCK_MONOTONIC))
        .int("boottime_ns", clock_ns(libc::CLOCK_BOOTTIME));
    o
}

/// Reads a file (e.g. one a volume brought in).
pub fn cat(path: &str) -> Object {
    let mut o = Object::kind("cat");
    o.str("path", path);
    match fs::read_to_string(path) {
        Ok(text) => o.str("text", &text).int("errno", 0),
        Err(e) => o.int("errno", e.raw_os_error().unwrap_or(-1).into()),
    };
    o
}
