//! The child's side of the process hardening: raw system calls between `clone3` and
//! `execve`, on data the parent prepared (see [`crate::process::child`] for the rules: no
//! allocation, no locks, no panics; a failing step returns its errno).

use crate::sys::errno::{check, errno};

use crate::security::step::SecurityStep;

/// `KEYCTL_JOIN_SESSION_KEYRING` from `<linux/keyctl.h>`.
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_ulong = 1;

/// Runs one hardening step.
pub fn run_step(step: &SecurityStep) -> Result<(), i32> {
    match step {
        SecurityStep::CloseInheritedFds { keep } => close_inherited_fds(*keep),
        // ANCHOR: new_session
        SecurityStep::NewSession => {
            // SAFETY: setsid takes no arguments. The child was just cloned, so it is
            // not a process group leader and the call succeeds.
            check(unsafe { libc::setsid() }.into())
        }
        // ANCHOR_END: new_session
        SecurityStep::SetRlimit {
            resource,
            soft,
            hard,
            ..
        } => {
            let limit = libc::rlimit {
                rlim_cur: *soft,
                rlim_max: *hard,
            };
            // SAFETY: `limit` is a live rlimit on this stack; `resource` is an
            // RLIMIT_* value the parent took from its table.
            check(unsafe { libc::setrlimit(*resource, &limit) }.into())
        }
        SecurityStep::WriteSysctl { path, value } => write_sysctl(path, value),
        SecurityStep::JoinSessionKeyring => join_session_keyring(),
        SecurityStep::NoNewPrivileges => {
            // SAFETY: PR_SET_NO_NEW_PRIVS takes integers only; unused arguments are 0.
            check(
                unsafe {
                    libc::prctl(
                        libc::PR_SET_NO_NEW_PRIVS,
                        1 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                    )
                }
                .into(),
            )
        }
        SecurityStep::InstallSeccomp(program) => install_seccomp(program),
        SecurityStep::SwitchUser { uid, gid, groups } => switch_user(*uid, *gid, groups),
    }
}

// ANCHOR: switch_user
/// Groups first, uid last: once the uid is not 0 the process may change neither.
fn switch_user(uid: libc::uid_t, gid: libc::gid_t, groups: &[libc::gid_t]) -> Result<(), i32> {
    // SAFETY: raw setgroups/setresgid/setresuid (glibc's wrappers would signal threads
    // this copy of the parent does not have); `groups` is the plan's live slice.
    unsafe {
        check(libc::syscall(
            libc::SYS_setgroups,
            groups.len(),
            groups.as_ptr(),
        ))?;
        check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
        check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))
    }
}
// ANCHOR_END: switch_user

// ANCHOR: close_inherited_fds
/// Marks every descriptor above stderr close-on-exec, except the `keep` range. Not
/// closed at once: the steps still to run use some of them (the report pipe must even
/// stay open until the very `execve`, whose success closes it).
fn close_inherited_fds(keep: Option<(u32, u32)>) -> Result<(), i32> {
    let ranges = match keep {
        None => [(3, u32::MAX), (1, 0)],
        Some((first, last)) => [
            (3, first.saturating_sub(1)),
            (last.saturating_add(1), u32::MAX),
        ],
    };
    for (first, last) in ranges {
        if first > last {
            continue;
        }
        // SAFETY: close_range takes plain integers and only changes this process's
        // descriptor table.
        check(unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first,
                last,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        })?;
    }
    Ok(())
}
// ANCHOR_END: close_inherited_fds

fn write_sysctl(path: &std::ffi::CStr, value: &std::ffi::CStr) -> Result<(), i32> {
    // SAFETY: `path` is a NUL-terminated string owned by the plan.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd.into())?;
    let bytes = value.to_bytes();
    // SAFETY: `fd` is open for writing; the pointer and length describe the plan's bytes.
    let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    let result = if written == -1 {
        Err(errno())
    } else if written as usize != bytes.len() {
        Err(libc::EIO)
    } else {
        Ok(())
    };
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
    result
}

// ANCHOR: join_session_keyring
/// A new anonymous session keyring: from here on, keys the container adds go there,
/// and the caller's session keyring (with whatever host root keeps in it) is no longer
/// this process's. A kernel without keyrings (`ENOSYS`) has nothing to isolate.
fn join_session_keyring() -> Result<(), i32> {
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING with a null name takes no memory of ours.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    match check(ret) {
        Err(libc::ENOSYS) => Ok(()),
        other => other,
    }
}
// ANCHOR_END: join_session_keyring

// ANCHOR: install_seccomp
/// Installs the filter the parent compiled. From here on every system call of this
/// process and all it starts passes through it; it can never be removed.
fn install_seccomp(program: &[seccompiler::sock_filter]) -> Result<(), i32> {
    let fprog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        // seccompiler's sock_filter is #[repr(C)] with the kernel's layout, as
        // libc's is.
        filter: program.as_ptr().cast_mut().cast(),
    };
    // SAFETY: `fprog` points to the plan's program, alive for the whole call; the
    // kernel copies it. Flags 0: this process is single-threaded.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0 as libc::c_uint,
            &raw const fprog,
        )
    })
}
// ANCHOR_END: install_seccomp
