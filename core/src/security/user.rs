//! `--user UID[:GID]` / `--user NAME[:GROUP]` and `--group-add`: who the command runs
//! as, looked up in the *image's* `/etc/passwd` and `/etc/group` as docker does.
//!
//! The files are opened by the parent with `openat2(RESOLVE_IN_ROOT)` from the
//! container's root (or each image layer, top-most first): an image whose
//! `/etc/passwd` is a symlink to `/etc/passwd` reads its *own* file, never the host's.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRequest {
    /// `UID`, `UID:GID`, `NAME`, `NAME:GROUP` (`--user`).
    pub user: String,
    /// Extra groups, by name or number (`--group-add`).
    pub group_add: Vec<String>,
}

/// The ids the command runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    /// Real, effective and saved uid.
    pub uid: u32,
    /// Real, effective and saved gid.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// Why a `--user` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A name not in the image's `/etc/passwd`.
    #[error(
        "--user {0:?}: no such user in the image's /etc/passwd (give a number, e.g. --user 1000:1000)"
    )]
    NoSuchUser(String),
    /// A group name not in the image's `/etc/group`.
    #[error(
        "group {0:?}: no such group in the image's /etc/group (give a number, e.g. --group-add 100)"
    )]
    NoSuchGroup(String),
    /// Empty or otherwise malformed.
    #[error("--user {0:?}: expected UID[:GID] or NAME[:GROUP]")]
    Malformed(String),
}

/// Where the image's files are: the rootfs (or the container's root, for `exec`), or
/// the overlay's layers, top-most first.
#[derive(Debug)]
pub enum ImageRoot<'a> {
    /// One directory (a plain rootfs, or `/proc/PID/root` held open).
    Dir(BorrowedFd<'a>),
    /// Overlay layers, top-most first: the first layer holding the file (or its
    /// whiteout, which hides it) wins.
    Layers(&'a [OwnedFd]),
}

/// What one directory holds at a path.
enum InRoot {
    File(String),
    /// Anything else, an overlay whiteout (a character device) included: the file is
    /// not there, and a lower layer's copy is hidden.
    Other,
    Absent,
}

impl ImageRoot<'_> {
    /// The file at `path` (relative, e.g. `etc/passwd`), resolved inside the root.
    fn read(&self, path: &str) -> Option<String> {
        let layers = match self {
            ImageRoot::Dir(root) => std::slice::from_ref(root).to_vec(),
            ImageRoot::Layers(layers) => layers.iter().map(AsFd::as_fd).collect(),
        };
        for layer in layers {
            match read_in_root(layer, path) {
                InRoot::File(text) => return Some(text),
                InRoot::Other => return None,
                InRoot::Absent => {}
            }
        }
        None
    }
}

/// Opens `dir` for use as an [`ImageRoot`].
pub fn open_dir(dir: &Path) -> std::io::Result<OwnedFd> {
    let c = CString::new(dir.as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a NUL-terminated path alive for the call.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

// ANCHOR: read_in_root
/// Reads `path` below `root` as if `root` were `/`: absolute symlinks and `..` stay
/// inside it (`RESOLVE_IN_ROOT`), `/proc` magic links are refused.
fn read_in_root(root: BorrowedFd<'_>, path: &str) -> InRoot {
    let Ok(c) = CString::new(path) else {
        return InRoot::Absent;
    };
    let mut how: libc::open_how = zeroed_open_how();
    how.flags = (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NONBLOCK) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `how` is a live open_how of the size passed; `c` a NUL-terminated path.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &raw const how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ENOENT) => InRoot::Absent,
            _ => InRoot::Other,
        };
    }
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return InRoot::Other;
    }
    let mut text = String::new();
    match file.take(1 << 20).read_to_string(&mut text) {
        Ok(_) => InRoot::File(text),
        Err(_) => InRoot::Other,
    }
}
// ANCHOR_END: read_in_root

fn zeroed_open_how() -> libc::open_how {
    // SAFETY: open_how is plain integers; all zero is a valid value.
    unsafe { std::mem::zeroed() }
}

/// One `/etc/passwd` or `/etc/group` line's first, third and fourth fields.
fn entries(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
}

// ANCHOR: resolve_user
/// The ids for `request`, from the image's files as docker reads them: a user name must
/// exist; a number need not (gid 0 then); the primary group is the passwd entry's unless
/// `:GROUP` is given; supplementary groups are every `/etc/group` entry listing the user,
/// plus `--group-add`.
pub fn resolve(request: &UserRequest, root: &ImageRoot<'_>) -> Result<ResolvedUser, UserError> {
    let passwd = root.read("etc/passwd").unwrap_or_default();
    let group = root.read("etc/group").unwrap_or_default();
    let (user, group_part) = match request.user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (request.user.as_str(), None),
    };
    if user.is_empty() || group_part == Some("") {
        return Err(UserError::Malformed(request.user.clone()));
    }
    let entry = entries(&passwd).find(|f| match user.parse::<u32>() {
        Ok(uid) => f[2].parse::<u32>() == Ok(uid),
        Err(_) => f[0] == user,
    });
    let (uid, name, passwd_gid) = match (user.parse::<u32>(), &entry) {
        (Ok(uid), Some(f)) => (uid, Some(f[0]), f[3].parse().unwrap_or(0)),
        (Ok(uid), None) => (uid, None, 0),
        (Err(_), Some(f)) => (
            f[2].parse()
                .map_err(|_| UserError::Malformed(request.user.clone()))?,
            Some(f[0]),
            f[3].parse().unwrap_or(0),
        ),
        (Err(_), None) => return Err(UserError::NoSuchUser(user.to_owned())),
    };
    let gid = match group_part {
        Some(g) => group_id(g, &group)?,
        None => passwd_gid,
    };
    let mut groups: Vec<u32> = Vec::new();
    if let Some(name) = name
        && group_part.is_none()
    {
        for f in entries(&group) {
            if f[3].split(',').any(|member| member == name)
                && let Ok(id) = f[2].parse::<u32>()
            {
                groups.push(id);
            }
        }
    }
    for extra in &request.group_add {
        groups.push(group_id(extra, &group)?);
    }
    if !groups.contains(&gid) {
        groups.insert(0, gid);
    }
    groups.dedup();
    Ok(ResolvedUser { uid, gid, groups })
}
// ANCHOR_END: resolve_user

fn group_id(group: &str, file: &str) -> Result<u32, UserError> {
    if let Ok(id) = group.parse::<u32>() {
        return Ok(id);
    }
    entries(file)
        .find(|f| f[0] == group)
        .and_then(|f| f[2].parse().ok())
        .ok_or_else(|| UserError::NoSuchGroup(group.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(passwd: &str, group: &str) -> (tempfile::TempDir, OwnedFd) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), passwd).unwrap();
        std::fs::write(dir.path().join("etc/group"), group).unwrap();
        let fd = open_dir(dir.path()).unwrap();
        (dir, fd)
    }

    #[test]
    fn names_numbers_and_groups_resolve_as_docker_does() {
        let (_dir, fd) = root_with(
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
            "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\nstaff:x:50:\n",
        );
        let root = ImageRoot::Dir(fd.as_fd());
        let ask = |user: &str, add: &[&str]| {
            resolve(
                &UserRequest {
                    user: user.to_owned(),
                    group_add: add.iter().map(|s| (*s).to_owned()).collect(),
                },
                &root,
            )
        };
        let alice = ask("alice", &[]).unwrap();
        assert_eq!(
            (alice.uid, alice.gid, alice.groups),
            (1000, 1000, vec![1000, 10])
        );
        let numeric = ask("1000", &["staff"]).unwrap();
        assert_eq!((numeric.uid, numeric.gid), (1000, 1000));
        assert!(numeric.groups.contains(&50));
        let unknown = ask("4242:4243", &[]).unwrap();
        assert_eq!(
            (unknown.uid, unknown.gid, unknown.groups),
            (4242, 4243, vec![4243])
        );
        assert_eq!(ask("alice:wheel", &[]).unwrap().gid, 10);
        assert!(matches!(ask("mallory", &[]), Err(UserError::NoSuchUser(_))));
        assert!(matches!(
            ask("alice:nogroup", &[]),
            Err(UserError::NoSuchGroup(_))
        ));
    }

    #[test]
    fn an_image_symlink_to_the_hosts_passwd_stays_inside_the_image() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        // Absolute link: on the host it would be the host's /etc/passwd (which has root).
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("etc/passwd")).unwrap();
        let fd = open_dir(dir.path()).unwrap();
        let root = ImageRoot::Dir(fd.as_fd());
        assert_eq!(
            root.read("etc/passwd"),
            None,
            "resolved to the image's own (absent) file"
        );
        let request = UserRequest {
            user: "root".to_owned(),
            group_add: Vec::new(),
        };
        assert!(matches!(
            resolve(&request, &root),
            Err(UserError::NoSuchUser(_))
        ));
    }
}
