//! A minimal `/dev`: a fresh tmpfs holding only the device nodes a process expects,
//! so the container never sees the host's disks, consoles or `/dev/mem`.

use std::path::Path;

use super::{MountStep, Step, cstring};
use crate::error::Result;

/// `(name, major, minor)` of the character devices every container gets, all mode 0666.
/// These are the same six the OCI runtime spec lists as always present.
pub const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Symlinks that programs expect in `/dev`, as `(link, target)`.
const LINKS: [(&str, &str); 5] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// Appends the steps that build `root/dev`. In a user namespace `mknod` is refused
/// (a device node would reach host hardware), so `bind_from_host` binds the host's own
/// nodes onto empty files instead, as rootless runtimes do.
pub fn mount_dev(steps: &mut Vec<Step>, root: &Path, bind_from_host: bool) -> Result<()> {
    let dev = root.join("dev");
    let path = |name: &str| cstring("device path", dev.join(name));
    steps.push(Step::Mkdir(path("")?, 0o755));
    steps.push(tmpfs(
        path("")?,
        libc::MS_NOSUID | libc::MS_STRICTATIME,
        c"mode=755,size=65536k",
    ));
    for (name, major, minor) in DEVICES {
        if bind_from_host {
            steps.push(Step::CreateFile(path(name)?));
            steps.push(Step::Mount(MountStep {
                source: Some(cstring("device path", Path::new("/dev").join(name))?),
                target: path(name)?,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
            }));
            continue;
        }
        steps.push(Step::CharDevice {
            path: path(name)?,
            mode: 0o666,
            major,
            minor,
        });
    }
    // A private devpts instance: ptys opened inside are invisible to the host and other
    // containers. The host terminal passed as stdin/stdout stays usable; it is an open fd.
    steps.push(Step::Mkdir(path("pts")?, 0o755));
    steps.push(Step::Mount(MountStep {
        source: Some(c"devpts".to_owned()),
        target: path("pts")?,
        fstype: Some(c"devpts".to_owned()),
        flags: libc::MS_NOSUID | libc::MS_NOEXEC,
        data: Some(c"newinstance,ptmxmode=0666,mode=0620".to_owned()),
    }));
    steps.push(Step::Mkdir(path("shm")?, 0o1777));
    steps.push(tmpfs(
        path("shm")?,
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        c"mode=1777,size=65536k",
    ));
    for (link, target) in LINKS {
        steps.push(Step::Symlink {
            target: cstring("symlink target", target)?,
            link: path(link)?,
        });
    }
    Ok(())
}

fn tmpfs(target: std::ffi::CString, flags: libc::c_ulong, data: &std::ffi::CStr) -> Step {
    Step::Mount(MountStep {
        source: Some(c"tmpfs".to_owned()),
        target,
        fstype: Some(c"tmpfs".to_owned()),
        flags,
        data: Some(data.to_owned()),
    })
}
