//! Resolving paths *inside* a rootfs or a layer, on the host side.
//!
//! A path such as `layer/etc/hosts` is resolved by the kernel from the host's `/`: if the
//! image made `etc` a symlink to `/etc`, writing it writes the *host's* `/etc/hosts`.
//! `openat2(2)` with `RESOLVE_IN_ROOT` resolves every component, symlinks and `..`
//! included, as if the layer were `/` (a symlink to `/etc` lands on `layer/etc`), and
//! `RESOLVE_NO_MAGICLINKS` refuses `/proc/self/...`-style jumps out. The last component
//! is opened with `O_NOFOLLOW`, and files are created with `O_EXCL`, so nothing is ever
//! written through a symlink, even one planted after the check.
//!
//! openat2 is in Linux 5.6 and later (this project needs 6.8 for overlay's `lowerdir+`
//! already). The `pathrs` crate (libpathrs) does the same with more fallbacks; a few
//! calls on one syscall did not justify its dependency tree here.

use std::ffi::CString;
use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

// From <linux/openat2.h>.
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// `struct open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// A directory every path below is resolved inside of.
#[derive(Debug)]
pub struct InRoot {
    root: OwnedFd,
    path: PathBuf,
}

/// `rel` without a leading `/`: every path given here is relative to the root.
fn relative(rel: &Path) -> PathBuf {
    rel.components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect()
}

fn openat2(dir: &OwnedFd, rel: &Path, flags: i32, mode: u32, resolve: u64) -> io::Result<OwnedFd> {
    let rel = relative(rel);
    let name = if rel.as_os_str().is_empty() {
        CString::new(".")
    } else {
        CString::new(rel.as_os_str().as_bytes())
    }
    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve,
    };
    // SAFETY: `dir` is an open descriptor, `name` a NUL-terminated string and `how` a
    // properly laid out open_how whose size is passed with it; all outlive the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            name.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl InRoot {
    /// Opens `root` (a path vessel owns: a layer, a container's directory).
    pub fn open(root: &Path) -> io::Result<InRoot> {
        let root_fd = File::open(root)?;
        Ok(InRoot {
            root: OwnedFd::from(root_fd),
            path: root.to_owned(),
        })
    }

    /// The root directory, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `rel` resolved inside the root, never following its last component
    /// (`flags` are open(2)'s: `O_RDONLY`, `O_WRONLY|O_CREAT|O_EXCL`, …).
    pub fn open_file(&self, rel: &Path, flags: i32, mode: u32) -> io::Result<File> {
        let resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        openat2(&self.root, rel, flags | libc::O_NOFOLLOW, mode, resolve).map(File::from)
    }

    /// The directory `rel` resolved inside the root, as an `O_PATH` descriptor.
    fn dir(&self, rel: &Path) -> io::Result<OwnedFd> {
        let resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        openat2(
            &self.root,
            rel,
            libc::O_PATH | libc::O_DIRECTORY,
            0,
            resolve,
        )
    }

    /// Makes `rel` and every missing parent a directory (mode 0755), each resolved
    /// inside the root: a symlink on the way leads somewhere below the root, never out.
    pub fn create_dir_all(&self, rel: &Path) -> io::Result<()> {
        let rel = relative(rel);
        let mut prefix = PathBuf::new();
        for component in rel.components() {
            let parent = self.dir(&prefix)?;
            prefix.push(component);
            let name = CString::new(component.as_os_str().as_bytes()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte")
            })?;
            // SAFETY: `parent` is an open directory descriptor and `name` one
            // NUL-terminated path component (no '/': mkdirat cannot leave `parent`).
            let made = unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o755) };
            if made != 0 {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::AlreadyExists {
                    return Err(error);
                }
            }
            // What is there now must be a directory, reached inside the root.
            self.dir(&prefix)?;
        }
        Ok(())
    }

    /// Creates the new file `rel` (its parents as needed) holding `bytes`, with `mode`.
    /// An existing file or symlink at `rel` is refused (`O_EXCL`), never written through.
    pub fn write_file(&self, rel: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
        let rel = relative(rel);
        if let Some(parent) = rel.parent() {
            self.create_dir_all(parent)?;
        }
        let mut file = self.open_file(&rel, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, mode)?;
        file.write_all(bytes)
    }

    /// What `rel` is (never following its last component), if every component on the
    /// way is a real directory below the root: a symlink anywhere on the way is
    /// `ELOOP`, since nothing that resolves through one is *in* this tree.
    pub fn symlink_metadata_beneath(&self, rel: &Path) -> io::Result<Metadata> {
        let resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        let fd = openat2(&self.root, rel, libc::O_PATH | libc::O_NOFOLLOW, 0, resolve)?;
        File::from(fd).metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_a_symlinked_directory_stay_inside_the_root() {
        let host = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(host.path(), root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("passwd")).unwrap();
        let in_root = InRoot::open(root.path()).unwrap();

        // `etc -> /tmp/…/host` resolves to `root/tmp/…/host` inside the root: missing
        // there, nothing is written anywhere; present, the file lands inside the root.
        assert!(
            in_root
                .write_file(Path::new("/etc/hosts"), b"x\n", 0o644)
                .is_err()
        );
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
        let inside = root.path().join(host.path().strip_prefix("/").unwrap());
        std::fs::create_dir_all(&inside).unwrap();
        in_root
            .write_file(Path::new("/etc/hosts"), b"x\n", 0o644)
            .unwrap();
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
        assert_eq!(std::fs::read(inside.join("hosts")).unwrap(), b"x\n");

        // A symlink as the last component is never written through.
        let error = in_root
            .write_file(Path::new("passwd"), b"x\n", 0o644)
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        // `..` cannot climb out either.
        in_root
            .create_dir_all(Path::new("../../../outside-of-root"))
            .unwrap();
        assert!(!Path::new("/outside-of-root").exists());
        assert!(root.path().join("outside-of-root").is_dir());
        // Looking beneath, a symlink on the way is refused.
        assert!(
            in_root
                .symlink_metadata_beneath(Path::new("etc/hosts"))
                .is_err()
        );
    }
}
