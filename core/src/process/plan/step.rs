//! One step of the child's pre-planned work between `clone` and `execve`.
//!
//! A [`Step`] owns every C string it needs, so running it in the child is a plain system
//! call: no allocation, no formatting, nothing that could take a lock another thread holds.

use std::ffi::{CStr, CString};

use crate::security::capabilities::{self, CapSet};

// ANCHOR: in_root_types
/// The ordered steps for one container, ready to run in the child.
#[derive(Debug)]
pub struct Plan {
    /// The steps, in the order the child runs them.
    pub steps: Vec<Step>,
    /// Descriptors the steps name (namespaces to join), open until the plan is dropped.
    pub held: Vec<std::os::fd::OwnedFd>,
}

/// Where the child keeps a descriptor between steps: a fixed table on its stack
/// ([`crate::process::child::mounts::ChildFds`]), so no step allocates to remember one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdSlot {
    /// The container's root (the overlay's merged directory or the bound rootfs),
    /// opened by [`Step::OpenRoot`]: every path below is resolved inside it.
    Root = 0,
    /// The fresh `/dev` tmpfs, as the mount fd `fsmount` returned: device nodes and
    /// `/dev` symlinks are made relative to it, so nothing in the image can redirect them.
    Dev = 1,
}

/// A path inside the container, resolved by the child with `openat2(RESOLVE_IN_ROOT)`
/// below the descriptor in `base`, never through the host's view of a symlink.
#[derive(Debug, Clone)]
pub struct InRootPath {
    /// The descriptor the path is relative to.
    pub base: FdSlot,
    /// Each prefix of the relative path: `a`, `a/b`, `a/b/c`.
    pub prefixes: Vec<CString>,
    /// Each component: `a`, `b`, `c`.
    pub names: Vec<CString>,
    /// The path for messages: where it lies on the host (`…/merged/dev/pts`).
    pub shown: CString,
}

/// What to create when a mount point is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountPoint {
    /// A directory with this mode.
    Dir(libc::mode_t),
    /// An empty file (to bind a file onto).
    File,
}

/// One option of a new filesystem instance, passed with one `fsconfig` call.
#[derive(Debug, Clone)]
pub enum FsOption {
    /// `FSCONFIG_SET_FLAG` (`newinstance`).
    Flag(CString),
    /// `FSCONFIG_SET_STRING` (`mode` = `755`).
    Value(CString, CString),
}

/// What a [`Step::Mount`] attaches.
#[derive(Debug, Clone)]
pub enum MountSource {
    /// A new instance of a filesystem: `fsopen(fstype)`, one `fsconfig` per option,
    /// `fsmount`.
    New {
        fstype: CString,
        options: Vec<FsOption>,
    },
    /// A recursive bind of a host path (a volume, a host device node, the host's
    /// `/sys`): `open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)`.
    Bind(CString),
}

/// A mount made by [`Step::Mount`]: the new mount is attached with `move_mount` onto the
/// descriptor of its resolved target, so no path is looked up again between the check
/// and the mount.
#[derive(Debug, Clone)]
pub struct MountStep {
    /// What is mounted.
    pub source: MountSource,
    /// Where, inside the container.
    pub target: InRootPath,
    /// What to create when the target is missing.
    pub create: MountPoint,
    /// `MOUNT_ATTR_*` flags of the new mount (read-only, nosuid, …).
    pub attrs: u64,
    /// Keep the new mount's descriptor in this slot for later steps.
    pub keep: Option<FdSlot>,
}
// ANCHOR_END: in_root_types

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

/// One OCI hook the child runs itself (`createContainer`, `startContainer`): it writes
/// the state into `state_fd`, forks, and the new process execs the hook with that as
/// stdin; the child waits for it, at most `timeout_ms`.
#[derive(Debug)]
pub struct HookStep {
    /// The point, as config.json names its list: `createContainer`.
    pub point: &'static str,
    /// The hook's place in that list, for messages (`hooks.createContainer[0]`).
    pub index: usize,
    /// The program.
    pub path: CString,
    /// Keeps the argument strings alive for `argv`.
    pub args: Vec<CString>,
    /// Keeps the environment strings alive for `envp`.
    pub env: Vec<CString>,
    /// Null-terminated pointers into `args`.
    pub argv: Vec<*const libc::c_char>,
    /// Null-terminated pointers into `env`.
    pub envp: Vec<*const libc::c_char>,
    /// Milliseconds before the hook is killed; `None` waits for ever.
    pub timeout_ms: Option<libc::c_int>,
    /// A memfd the parent made (close-on-exec); the hook's stdin.
    pub state_fd: libc::c_int,
    /// The state document before and after the child's pid.
    pub state: crate::process::hooks::StateTemplate,
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
    /// `open(path, O_PATH|O_DIRECTORY)` into [`FdSlot::Root`]: the mounted root every
    /// later path is resolved inside.
    OpenRoot(CString),
    /// Resolve (and create) the target inside the root, then attach a new filesystem or
    /// a bind of a host path onto it (see [`crate::process::child::mounts`]).
    Mount(MountStep),
    /// `mknodat(slot, name, S_IFCHR|mode, makedev(major, minor))`.
    CharDevice {
        at: FdSlot,
        name: CString,
        shown: CString,
        mode: libc::mode_t,
        major: u32,
        minor: u32,
    },
    /// `mknodat(parent, name, mode, makedev(major, minor))`, `mode` holding the type
    /// (`S_IFCHR` or `S_IFBLK`) and the permissions: a `--device` node, its directory
    /// resolved (and made) inside the root.
    Mknod {
        parent: InRootPath,
        name: CString,
        shown: CString,
        mode: libc::mode_t,
        major: u32,
        minor: u32,
    },
    /// `symlinkat(target, slot, name)`.
    Symlink {
        target: CString,
        at: FdSlot,
        name: CString,
        shown: CString,
    },
    /// Bind a path onto itself and make it read-only (docker's read-only `/proc/sys`,
    /// …); a path that does not exist is skipped.
    ReadOnlyPath(InRootPath),
    /// Hide a path: an empty read-only tmpfs over a directory, the container's
    /// `/dev/null` over a file (docker's masked `/proc/kcore`, …); a path that does not
    /// exist is skipped.
    MaskPath(InRootPath),
    /// `mount_setattr(root, MOUNT_ATTR_RDONLY)` on the root mount only (`--read-only`):
    /// after every mount point is made, so the mounts on top stay as they are.
    MakeRootReadOnly,
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
    OpenTerminal(crate::tty::console::TerminalRequest),
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
    /// The OCI create/start split: close the report pipe (the parent, `vessel create`,
    /// sees end-of-file: every step before this one succeeded), then block reading one
    /// byte from `fifo`, the read-write end of the container's `exec.fifo`, which
    /// `vessel start` writes. A failure after it is told by the exit code (127 not
    /// found, 126 not executable, 125 otherwise) and, when there is a `reply` fifo
    /// (startContainer hooks), reported there to `vessel start`, the steps numbered
    /// from the one after this.
    AwaitStart {
        fifo: libc::c_int,
        reply: Option<libc::c_int>,
    },
    /// Wait for the parent's go: its cgroup attach, id maps, network and hooks are done.
    /// Placed before the first step that needs them (see `Plan::for_spec`); a plan
    /// without it waits before its first step.
    AwaitParent,
    /// Run one OCI hook in the container's namespaces and wait for it.
    Hook(HookStep),
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
            Step::OpenRoot(root) => format!("open the rootfs {}", q(root)),
            Step::Mount(m) => match &m.source {
                MountSource::New { fstype, .. } => {
                    format!(
                        "mount {} on {}",
                        fstype.to_string_lossy(),
                        q(&m.target.shown)
                    )
                }
                MountSource::Bind(host) => {
                    format!("mount (bind of {}) on {}", q(host), q(&m.target.shown))
                }
            },
            Step::CharDevice { shown, .. } => format!("mknod({})", q(shown)),
            Step::Symlink { shown, .. } => format!("symlink({})", q(shown)),
            Step::ReadOnlyPath(path) => {
                format!("make {} read-only (bind onto itself)", q(&path.shown))
            }
            Step::MaskPath(path) => format!("mask {} (tmpfs or /dev/null over it)", q(&path.shown)),
            Step::MakeRootReadOnly => {
                "make the root read-only (mount_setattr MOUNT_ATTR_RDONLY)".to_owned()
            }
            Step::Mknod { shown, .. } => format!("mknod({})", q(shown)),
            Step::PivotRoot(root) => format!("pivot_root({})", q(root)),
            Step::DetachOldRoot => "detach old root (umount2 MNT_DETACH)".to_owned(),
            Step::Chroot(root) => format!("chroot({})", q(root)),
            Step::SetHostname(name) => format!("sethostname({})", q(name)),
            Step::Chdir(dir) => format!("chdir({})", q(dir)),
            Step::BecomeRoot { .. } => "become root of the user namespace (setresuid 0)".to_owned(),
            Step::Unshare(flags) => format!("unshare({})", flag_name(*flags)),
            Step::AwaitTimeOffsets { .. } => {
                "wait for the parent to write timens_offsets".to_owned()
            }
            Step::EnterTimeNamespace => "setns(/proc/self/ns/time_for_children)".to_owned(),
            Step::LoopbackUp => "bring up lo (ioctl SIOCSIFFLAGS)".to_owned(),
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
            Step::AwaitStart { .. } => "wait for `vessel start` (read exec.fifo)".to_owned(),
            Step::AwaitParent => "wait for the parent's set-up (read the go pipe)".to_owned(),
            Step::Hook(hook) => hook.describe(),
            Step::Exec(exec) => format!("execve({:?})", exec.command),
        }
    }

    /// Whether the step resolves a path inside the container's root (its `ELOOP` means
    /// a symlink the child refused to go through).
    pub fn resolves_in_root(&self) -> bool {
        matches!(
            self,
            Step::Mount(_) | Step::Mknod { .. } | Step::ReadOnlyPath(_) | Step::MaskPath(_)
        )
    }
}

/// The `CLONE_NEW*` name of an unshare flag word, for error messages.
fn flag_name(flags: libc::c_int) -> &'static str {
    match flags {
        libc::CLONE_NEWCGROUP => "CLONE_NEWCGROUP",
        libc::CLONE_NEWTIME => "CLONE_NEWTIME",
        _ => "CLONE_NEW…",
    }
}

impl HookStep {
    /// `createContainer hook "/usr/bin/x" (hooks.createContainer[0])`.
    pub fn describe(&self) -> String {
        describe_hook(self.point, self.index, &self.path.to_string_lossy())
    }
}

/// How a hook is named in messages, by the parent and by `vessel start` alike.
pub fn describe_hook(point: &str, index: usize, path: &str) -> String {
    format!("{point} hook {path:?} (hooks.{point}[{index}])")
}
