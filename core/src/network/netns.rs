//! Reaching into a container's network namespace from the parent.

use std::fs::File;
use std::os::fd::AsFd;

use super::error::{NetworkError, Result, sys};
use super::netlink::Netlink;

/// The network namespace of process `pid` (`/proc/PID/ns/net`), held open.
pub fn of_pid(pid: libc::pid_t) -> Result<File> {
    let path = format!("/proc/{pid}/ns/net");
    File::open(&path).map_err(sys(format!("open {path}")))
}

// ANCHOR: socket_in
/// An rtnetlink socket inside `netns`. A netlink socket belongs to the namespace it was
/// created in, for its whole life; so a short-lived thread enters the namespace
/// (`setns` changes only the calling thread's), creates the socket and ends. The
/// caller's own threads never leave the host's namespace.
pub fn socket_in(netns: &File) -> Result<Netlink> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::setns(netns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(
                    |e| NetworkError::Sys {
                        call: "setns (a helper thread into the container's network namespace)"
                            .to_owned(),
                        source: e.into(),
                    },
                )?;
                Netlink::open()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(NetworkError::Invalid(
                    "the thread that entered the container's network namespace panicked".to_owned(),
                ))
            })
    })
}
// ANCHOR_END: socket_in

/// An identifier of the calling process's network namespace, `DEV-INODE` of
/// `/proc/self/ns/net`: vessel's network state is kept per namespace, because the
/// bridges it describes live in one.
pub fn current_id() -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/proc/self/ns/net").map_err(sys("stat /proc/self/ns/net"))?;
    Ok(format!("{}-{}", meta.dev(), meta.ino()))
}
