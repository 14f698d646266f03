//! A minimal `/dev`: a fresh tmpfs holding only the device nodes a process expects,
//! so the container never sees the host's disks, consoles or `/dev/mem`.
//!
//! The tmpfs is mounted on `/dev` resolved inside the root, and its own mount descriptor
//! is kept ([`FdSlot::Dev`]): every node, mount point and symlink below is made relative
//! to it, so an image whose `/dev` is a symlink cannot send them anywhere else.

use std::path::Path;

use super::cstring::cstring;
use super::in_root::{below_root, flag, in_dev, value};
use super::step::{FdSlot, MountPoint, MountSource};
use super::step::{MountStep, Step};
use crate::process::error::Result;
use crate::rootfs::mount_api::{
    MOUNT_ATTR_HARDENED, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_STRICTATIME,
};

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
    let shown = |name: &str| cstring("device path", root.join("dev").join(name));
    steps.push(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"tmpfs".to_owned(),
            options: vec![value("mode", "755")?, value("size", "65536k")?],
        },
        target: below_root(root, "dev")?,
        create: MountPoint::Dir(0o755),
        attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME,
        keep: Some(FdSlot::Dev),
    }));
    for (name, major, minor) in DEVICES {
        if bind_from_host {
            steps.push(Step::Mount(MountStep {
                source: MountSource::Bind(cstring("device path", Path::new("/dev").join(name))?),
                target: in_dev(root, name)?,
                create: MountPoint::File,
                attrs: 0,
                keep: None,
            }));
            continue;
        }
        steps.push(Step::CharDevice {
            at: FdSlot::Dev,
            name: cstring("device path", name)?,
            shown: shown(name)?,
            mode: 0o666,
            major,
            minor,
        });
    }
    // A private devpts instance: ptys opened inside are invisible to the host and other
    // containers. The host terminal passed as stdin/stdout stays usable; it is an open fd.
    steps.push(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"devpts".to_owned(),
            options: vec![
                flag("newinstance")?,
                value("ptmxmode", "0666")?,
                value("mode", "0620")?,
            ],
        },
        target: in_dev(root, "pts")?,
        create: MountPoint::Dir(0o755),
        attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
        keep: None,
    }));
    steps.push(Step::Mount(MountStep {
        source: MountSource::New {
            fstype: c"tmpfs".to_owned(),
            options: vec![value("mode", "1777")?, value("size", "65536k")?],
        },
        target: in_dev(root, "shm")?,
        create: MountPoint::Dir(0o1777),
        attrs: MOUNT_ATTR_HARDENED,
        keep: None,
    }));
    for (link, target) in LINKS {
        steps.push(Step::Symlink {
            target: cstring("symlink target", target)?,
            at: FdSlot::Dev,
            name: cstring("device path", link)?,
            shown: shown(link)?,
        });
    }
    Ok(())
}
