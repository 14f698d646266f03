//! One step of the child's pre-planned work between `clone` and `execve`.
//!
//! A [`Step`] owns every C string it needs, so running it in the child is a plain system
//! call: no allocation, no formatting, nothing that could take a lock another thread holds.

use std::ffi::{CStr, CString};

use crate::capabilities::{self, CapSet};

/// A mount made by [`Step::Mount`].
#[derive(Debug)]
pub struct MountStep {
    /// `source` argument (`"proc"`, `"tmpfs"`, a path for bind mounts), or none.
    pub source: Option<CString>,
    /// Where to mount.
    pub target: CString,
    /// Filesystem type, or none for bind mounts and propagation changes.
    pub fstype: Option<CString>,
    /// `MS_*` flags.
    pub flags: libc::c_ulong,
    /// Filesystem options (`"mode=755"`), or none.
    pub data: Option<CString>,
}

/// Everything `execve` needs, plus the `PATH` candidates to try in order.
#[derive(Debug)]
pub struct ExecStep {
    /// What the user typed as the command, for error messages.
    pub command: String,
    /// Full paths to try in order (one if the command has a `/`).
    pub candidates: Vec<CString>,
    /// Keeps the argument strings alive for `argv`.
    pub args: Vec<CString>,
    /// Keeps the environment strings alive for `envp`.
    pub env: Vec<CString>,
    /// Null-terminated pointers into `args`.
    pub argv: Vec<*const libc::c_char>,
    /// Null-terminated pointers into `env`.
    pub envp: Vec<*const libc::c_char>,
}

/// One thing the child does. The variants follow the order the child runs them in.
#[derive(Debug)]
pub enum Step {
    /// `dup2(from, to)`: give the container the caller's chosen stdin, stdout or stderr.
    /// When `from == to` the descriptor is already in place and only loses close-on-exec.
    Dup2 { from: libc::c_int, to: libc::c_int },
    /// Clear the signal mask and restore default dispositions, so the container does not
    /// inherit an ignored `SIGINT` or a blocked `SIGTERM` from its caller.
    ResetSignals,
    /// `umask(mask)`: `0` while making device nodes, docker's `022` before exec.
    SetUmask(libc::mode_t),
    /// `mount(NULL, "/", NULL, MS_REC|MS_PRIVATE)`: stop mount events flowing between this
    /// namespace and the host. Without it, every mount below would appear on the host.
    MakeMountsPrivate,
    /// Mount the image layers with overlayfs on the merged directory, one `fsconfig`
    /// call per layer (see [`crate::layers::overlay`]); the merged directory is then the
    /// mount point `pivot_root` enters.
    MountOverlay(crate::layers::OverlayArgs),
    /// `mount(path, path, NULL, MS_BIND|MS_REC)`: `pivot_root` wants the new root to be a
    /// mount point, and a directory is not one until it is bound onto itself.
    BindRootOntoItself(CString),
    /// `mkdir(path, mode)`; an existing directory is fine.
    Mkdir(CString, libc::mode_t),
    /// `mount(2)` with the given arguments.
    Mount(MountStep),
    /// `mknod(path, S_IFCHR|mode, makedev(major, minor))`.
    CharDevice {
        path: CString,
        mode: libc::mode_t,
        major: u32,
        minor: u32,
    },
    /// `mknod(path, mode, makedev(major, minor))`, `mode` holding the type
    /// (`S_IFCHR` or `S_IFBLK`) and the permissions: a `--device` node.
    Mknod {
        path: CString,
        mode: libc::mode_t,
        major: u32,
        minor: u32,
    },
    /// `symlink(target, link)`.
    Symlink { target: CString, link: CString },
    /// `chdir(root)` then `pivot_root(".", ".")`: the old root ends up stacked under the
    /// new one, at the same place, so no `put_old` directory is needed in the image.
    PivotRoot(CString),
    /// `umount2(".", MNT_DETACH)` then `chdir("/")`: drop the old root, which sat on top of
    /// the new root after [`Step::PivotRoot`]. From here the host is unreachable.
    DetachOldRoot,
    /// `chroot(path)` then `chdir("/")`: the weak alternative to `pivot_root`.
    Chroot(CString),
    /// `sethostname(name)`.
    SetHostname(CString),
    /// `chdir(dir)`.
    Chdir(CString),
    /// `setresgid`/`setgroups`/`setresuid` to 0 inside a new user namespace, once the
    /// parent has written the id maps: the command then starts as the namespace's root
    /// and keeps its capabilities across `execve`. Raw system calls, because glibc's
    /// wrappers signal every thread of the parent, which the child does not have.
    /// `setgroups` is skipped when the parent had to write `deny` (rootless).
    BecomeRoot { setgroups: bool },
    /// `unshare(flags)` in the child, for namespaces that must not be created by
    /// `clone3`: a cgroup namespace rooted where the container's cgroup is, and a time
    /// namespace whose offsets the parent writes before anyone enters it.
    Unshare(libc::c_int),
    /// Close `ready` (the parent sees end-of-file: the time namespace exists), then block
    /// reading `resume` until the parent has written `/proc/CHILD/timens_offsets`.
    /// `unused` are the parent's ends, copied by clone: closed first, so that end-of-file
    /// on `resume` means the parent gave up.
    AwaitTimeOffsets {
        ready: libc::c_int,
        resume: libc::c_int,
        unused: [libc::c_int; 2],
    },
    /// `setns(open("/proc/self/ns/time_for_children"), CLONE_NEWTIME)`: enter the time
    /// namespace made by [`Step::Unshare`], now that its offsets are set.
    EnterTimeNamespace,
    /// Bring the new network namespace's `lo` up (`ioctl(SIOCSIFFLAGS, IFF_UP)`): a new
    /// network namespace has only a loopback device, and it starts down.
    LoopbackUp,
    /// `open(path, O_CREAT)` and close: an empty file to bind a host device node onto.
    CreateFile(CString),
    /// `setns(fd, nstype)`: join one namespace of a running container (`vessel exec`).
    SetNs {
        fd: libc::c_int,
        nstype: libc::c_int,
        name: &'static str,
    },
    /// `fchdir(fd)` then `chroot(".")`: take the container's root directory, held open
    /// as `/proc/PID/root` by the parent (`vessel exec`).
    JoinRoot(libc::c_int),
    /// `open(path)` and write `0` (the writer itself) to a `cgroup.procs` file: join the
    /// container's cgroup (`vessel exec`).
    JoinCgroup(CString),
    /// `clone3(CLONE_PARENT)`: a joined PID namespace only applies to children, so
    /// `vessel exec` forks once more. The new process becomes the *caller's* child (as
    /// runc does), the intermediate writes its pid (host numbering) to `pid_pipe` and
    /// exits, and the new process goes on with the remaining steps.
    ForkAsSibling { pid_pipe: libc::c_int },
    /// `setsid()` then `ioctl(0, TIOCSCTTY)`: a session of its own whose controlling
    /// terminal is the pty on stdin (`vessel exec -t`, `vessel run -t`), so Ctrl-C reaches it.
    TakeTerminal,
    /// Open a pty on the container's own `/dev/pts/ptmx`, size it, send the master to
    /// vessel over the request's socket and make the slave fds 0, 1 and 2 (`vessel run
    /// -t`, `vessel exec -t`; see [`crate::tty::console`] for why the container's devpts,
    /// not the host's).
    OpenTerminal(crate::tty::TerminalRequest),
    /// One step of the process hardening (`setsid`, `close_range`, seccomp, keyring,
    /// `no_new_privs`, rlimits, sysctls): see [`crate::security::SecurityStep`].
    Security(crate::security::SecurityStep),
    /// `prctl(PR_CAPBSET_DROP, cap)`: no process in the container can ever gain `cap`
    /// again, whatever it executes. Needs `CAP_SETPCAP`, so before [`Step::SetCapabilities`].
    DropBoundingCapability(u32),
    /// `capset(2)`: the effective, permitted and inheritable sets the command starts
    /// with. Only lowers them (the parent checked the child holds them all).
    SetCapabilities {
        effective: CapSet,
        permitted: CapSet,
        inheritable: CapSet,
    },
    /// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)`: no capability survives
    /// `execve` of an ordinary program by the ambient set.
    ClearAmbientCapabilities,
    /// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)`: an OCI bundle's ambient set.
    RaiseAmbientCapability(u32),
    /// `execve` each candidate in turn; on success this never returns.
    Exec(ExecStep),
}

impl Step {
    /// The step as a call with its main argument, for error messages:
    /// `pivot_root("/var/lib/vessel/…")`.
    pub fn describe(&self) -> String {
        fn q(s: &CStr) -> String {
            format!("{:?}", s.to_string_lossy())
        }
        match self {
            Step::Dup2 { to, .. } => format!("dup2 onto fd {to}"),
            Step::ResetSignals => "reset signal mask and handlers".to_owned(),
            Step::SetUmask(mask) => format!("umask({mask:#o})"),
            Step::MakeMountsPrivate => "make / private (mount MS_REC|MS_PRIVATE)".to_owned(),
            Step::BindRootOntoItself(root) => format!("bind rootfs onto itself {}", q(root)),
            Step::MountOverlay(overlay) => format!(
                "mount overlay of {} read-only layers on {} (fsopen/fsconfig lowerdir+, Linux 6.8 or later)",
                overlay.lowers.len(),
                q(&overlay.target)
            ),
            Step::Mkdir(path, _) => format!("mkdir({})", q(path)),
            Step::Mount(m) => {
                let fstype = m.fstype.as_deref().map(CStr::to_string_lossy);
                format!(
                    "mount {} on {}",
                    fstype.as_deref().unwrap_or("(bind)"),
                    q(&m.target)
                )
            }
            Step::CharDevice { path, .. } => format!("mknod({})", q(path)),
            Step::Mknod { path, .. } => format!("mknod({})", q(path)),
            Step::Symlink { link, .. } => format!("symlink({})", q(link)),
            Step::PivotRoot(root) => format!("pivot_root({})", q(root)),
            Step::DetachOldRoot => "detach old root (umount2 MNT_DETACH)".to_owned(),
            Step::Chroot(root) => format!("chroot({})", q(root)),
            Step::SetHostname(name) => format!("sethostname({})", q(name)),
            Step::Chdir(dir) => format!("chdir({})", q(dir)),
            Step::BecomeRoot { .. } => "become root of the user namespace (setresuid 0)".to_owned(),
            Step::Unshare(flags) => format!("unshare({})", crate::child_ns::flag_name(*flags)),
            Step::AwaitTimeOffsets { .. } => {
                "wait for the parent to write timens_offsets".to_owned()
            }
            Step::EnterTimeNamespace => "setns(/proc/self/ns/time_for_children)".to_owned(),
            Step::LoopbackUp => "bring up lo (ioctl SIOCSIFFLAGS)".to_owned(),
            Step::CreateFile(path) => format!("create {}", q(path)),
            Step::SetNs { name, .. } => format!("setns(/proc/PID/ns/{name})"),
            Step::JoinRoot(_) => "chroot into the container's root (/proc/PID/root)".to_owned(),
            Step::JoinCgroup(path) => format!("join cgroup {}", q(path)),
            Step::ForkAsSibling { .. } => {
                "clone3(CLONE_PARENT) into the joined PID namespace".to_owned()
            }
            Step::TakeTerminal => "setsid and take the terminal (TIOCSCTTY)".to_owned(),
            Step::OpenTerminal(_) => {
                "open a terminal on the container's /dev/pts/ptmx and send it to vessel".to_owned()
            }
            Step::Security(step) => step.describe(),
            Step::DropBoundingCapability(cap) => {
                format!("prctl(PR_CAPBSET_DROP, {})", capabilities::name(*cap))
            }
            Step::SetCapabilities {
                effective,
                permitted,
                inheritable,
            } => format!(
                "capset(effective {:#x}, permitted {:#x}, inheritable {:#x})",
                effective.0, permitted.0, inheritable.0
            ),
            Step::ClearAmbientCapabilities => {
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)".to_owned()
            }
            Step::RaiseAmbientCapability(cap) => format!(
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, {})",
                capabilities::name(*cap)
            ),
            Step::Exec(exec) => format!("execve({:?})", exec.command),
        }
    }
}
