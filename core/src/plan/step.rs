//! One step of the child's pre-planned work between `clone` and `execve`.
//!
//! A [`Step`] owns every C string it needs, so running it in the child is a plain system
//! call: no allocation, no formatting, nothing that could take a lock another thread holds.

use std::ffi::{CStr, CString};

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
            Step::Symlink { link, .. } => format!("symlink({})", q(link)),
            Step::PivotRoot(root) => format!("pivot_root({})", q(root)),
            Step::DetachOldRoot => "detach old root (umount2 MNT_DETACH)".to_owned(),
            Step::Chroot(root) => format!("chroot({})", q(root)),
            Step::SetHostname(name) => format!("sethostname({})", q(name)),
            Step::Chdir(dir) => format!("chdir({})", q(dir)),
            Step::Exec(exec) => format!("execve({:?})", exec.command),
        }
    }
}
