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

/// A namespace file held open, shared by the specs that name it: compared by the
/// descriptor number, so a spec stays comparable.
#[derive(Debug, Clone)]
pub struct NamespaceFd(pub std::sync::Arc<std::os::fd::OwnedFd>);

impl NamespaceFd {
    /// The network namespace of the live process `pid` (started at `start_time`: a
    /// recycled pid is refused, not joined).
    pub fn of_process(pid: libc::pid_t, start_time: u64) -> Result<NamespaceFd> {
        let file = of_pid(pid)?;
        if !crate::state::process::is_same_process(pid, start_time) {
            return Err(NetworkError::Invalid(format!(
                "process {pid} ended: the container is not running"
            )));
        }
        Ok(NamespaceFd(std::sync::Arc::new(file.into())))
    }

    /// The descriptor, for the child's `setns`.
    pub fn raw(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&*self.0)
    }
}

impl PartialEq for NamespaceFd {
    fn eq(&self, other: &NamespaceFd) -> bool {
        self.raw() == other.raw()
    }
}

impl Eq for NamespaceFd {}
