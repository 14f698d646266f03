//! Keeping the host's `vessel` binary out of a container's reach through `/proc/PID/exe`.
//!
//! Until its `execve`, every process vessel puts into a container (the first process of
//! `run` and `create`, the one `exec` joins) is vessel's own binary, and a container's
//! root may open `/proc/PID/exe` of a process it can see that has the same uid and no
//! capability it lacks itself: that is the *host's* file, which a container that keeps
//! the descriptor can write once no vessel runs it (CVE-2019-5736, runc's "/proc/self/exe"
//! escape). A created container's init waits in exactly that state, with the container's
//! capabilities, until `vessel start`. A process that is not dumpable can be opened so
//! only with `CAP_SYS_PTRACE`, which no default container has, and `fork`/`clone3` pass
//! the flag on. `execve` of an ordinary program makes the new program dumpable again, so
//! the container's command is as dumpable as under runc (which does the same).

use std::io;

// ANCHOR: forbid_for_root
/// Makes this process, and every process it forks from now on, not dumpable, when it
/// runs as root. Not for other users: a rootless vessel writes its child's
/// `/proc/PID/uid_map` itself, which a non-dumpable child's root-owned `/proc/PID` would
/// refuse, and its containers' root is that user, who owns nothing more on the host.
pub fn forbid_for_root() -> io::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and changes one flag of this
    // process's memory descriptor; no pointer is passed.
    match unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}
// ANCHOR_END: forbid_for_root
