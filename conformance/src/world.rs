//! The host side of a suite run: a work directory of its own, the test rootfs (vessel's
//! default rootfs plus the probe and a few files the layer checks use), and a marker
//! file on the host that no container may ever reach.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use vessel::cgroups::{self, Version};

/// Where the probe sits in the test rootfs.
pub const PROBE_IN_ROOTFS: &str = "/vessel-probe";
/// A directory in the rootfs with two files, for the whiteout and opaque-dir checks.
pub const DATA_DIR: &str = "/conformance/data";
/// A 1 MiB file in the rootfs, for the copy-up check.
pub const BIG_FILE: &str = "/conformance/big";
/// An empty directory in the rootfs the host mounts on while a container runs.
pub const LATE_DIR: &str = "/conformance/late";
/// Size of [`BIG_FILE`].
pub const BIG_FILE_LEN: usize = 1 << 20;

/// The environment every check shares.
#[derive(Debug)]
pub struct World {
    /// The suite's own directory; removed at the end.
    pub work: PathBuf,
    /// The test rootfs (read-only for the checks: a check that writes copies it).
    pub rootfs: PathBuf,
    /// The static probe binary on the host.
    pub probe: PathBuf,
    /// A file on the host, outside every rootfs: reachable from no container.
    pub host_marker: PathBuf,
    /// The host's cgroup world.
    pub cgroups: Version,
    /// `--cgroup-parent`: where every container's cgroup goes, as a path from the
    /// hierarchies' root; `None` puts them in `vessel-conformance` below our own cgroup.
    pub cgroup_parent: Option<PathBuf>,
}

/// Where to get things from; see the command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The probe binary; default: `vessel-probe` beside this executable.
    pub probe: Option<PathBuf>,
    /// A rootfs to copy instead of building vessel's default one.
    pub rootfs: Option<PathBuf>,
    /// The parent of the work directory; default `/var/tmp`.
    pub work_parent: Option<PathBuf>,
    /// An absolute cgroup path to put the containers' cgroups under.
    pub cgroup_parent: Option<PathBuf>,
}

impl World {
    /// Makes the work directory and the test rootfs.
    pub fn prepare(sources: &Sources) -> Result<World, String> {
        if let Some(parent) = &sources.cgroup_parent
            && !parent.is_absolute()
        {
            return Err(format!(
                "--cgroup-parent {}: must be absolute, a path from the cgroup hierarchies' root (e.g. /user.slice/delegated)",
                parent.display()
            ));
        }
        let cgroups = cgroups::detect(Path::new("/sys/fs/cgroup"))
            .map_err(|e| format!("detect the cgroup version: {e}"))?;
        let probe = find_probe(sources.probe.as_deref())?;
        let static_probe = vessel::rootfs::is_static_executable(&probe)
            .map_err(|e| format!("inspect the probe {}: {e}", probe.display()))?;
        if !static_probe {
            return Err(format!(
                "the probe {} is not statically linked, so it cannot run on a busybox rootfs \
                 (build it with `cargo xtask conformance`, which links it with +crt-static)",
                probe.display()
            ));
        }
        let parent = sources
            .work_parent
            .clone()
            .unwrap_or_else(|| PathBuf::from("/var/tmp"));
        let work = parent.join(format!("vessel-conformance-{}", std::process::id()));
        if work.exists() {
            fs::remove_dir_all(&work).map_err(|e| format!("remove {}: {e}", work.display()))?;
        }
        fs::create_dir_all(&work).map_err(|e| format!("create {}: {e}", work.display()))?;
        if let Err(e) = share(&work) {
            let _ = fs::remove_dir_all(&work);
            return Err(e);
        }
        let rootfs = work.join("rootfs");
        let host_marker = work.join("host-only-marker");
        let filled = build_rootfs(&rootfs, sources.rootfs.as_deref(), &probe).and_then(|()| {
            fs::write(&host_marker, "the host's, never a container's\n")
                .map_err(|e| format!("write {}: {e}", host_marker.display()))
        });
        if let Err(e) = filled {
            unshare(&work);
            let _ = fs::remove_dir_all(&work);
            return Err(e);
        }
        Ok(World {
            work,
            rootfs,
            probe,
            host_marker,
            cgroups,
            cgroup_parent: sources.cgroup_parent.clone(),
        })
    }

    /// A fresh scratch directory under the work directory.
    pub fn scratch(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.work.join("scratch").join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| format!("remove {}: {e}", dir.display()))?;
        }
        fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// A writable copy of the test rootfs, for checks whose container writes to `/`.
    pub fn rootfs_copy(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.scratch(name)?.join("rootfs");
        copy_tree(&self.rootfs, &dir)?;
        Ok(dir)
    }

    /// Removes the work directory (the rootfs and every scratch directory).
    pub fn remove(&self) -> Result<(), String> {
        unshare(&self.work);
        fs::remove_dir_all(&self.work).map_err(|e| format!("remove {}: {e}", self.work.display()))
    }
}

/// Makes `work` a shared mount of its own (bind it onto itself, `MS_SHARED`).
///
/// Every rootfs lives below it, so a container's mount namespace starts with a shared
/// copy of it. A runtime that forgets to make its mounts private (`MS_REC|MS_PRIVATE`
/// on `/`) then leaks its mounts into the host's table, and one that makes them slave
/// lets the host's later mounts in: the mount checks can fail on any host, even one
/// whose own `/` is private (a systemd host's is shared; this is the bug that breaks
/// the host's `/proc`).
fn share(work: &Path) -> Result<(), String> {
    let path = CString::new(work.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let flags = [libc::MS_BIND, libc::MS_SHARED];
    for flag in flags {
        // SAFETY: `path` is a NUL-terminated string that outlives the call; the other
        // pointers are null, which mount(2) allows for a bind and a propagation change.
        let ret = unsafe {
            libc::mount(
                path.as_ptr(),
                path.as_ptr(),
                std::ptr::null(),
                flag,
                std::ptr::null(),
            )
        };
        if ret != 0 {
            let error = std::io::Error::last_os_error();
            unshare(work);
            return Err(format!(
                "make the work directory {} a shared mount: {error}",
                work.display()
            ));
        }
    }
    Ok(())
}

/// Undoes [`share`] (and detaches anything a check left below it).
fn unshare(work: &Path) {
    if let Ok(path) = CString::new(work.as_os_str().as_bytes()) {
        // SAFETY: `path` is a NUL-terminated string that outlives the call.
        unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The probe: the given path, else `vessel-probe` beside this executable (or one level
/// up, where cargo puts binaries when this is a test).
fn find_probe(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return path
            .canonicalize()
            .map_err(|e| format!("--probe {}: {e}", path.display()));
    }
    if let Some(path) = std::env::var_os("VESSEL_PROBE") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("find this executable: {e}"))?;
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("vessel-probe"))
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no probe binary: looked for {candidates:?}; pass --probe PATH or set VESSEL_PROBE \
                 (`cargo xtask conformance` builds it)"
            )
        })
}

fn build_rootfs(dir: &Path, source: Option<&Path>, probe: &Path) -> Result<(), String> {
    match source {
        Some(source) if !source.join("bin/sh").exists() => {
            return Err(format!(
                "--rootfs {}: no bin/sh there (give a root filesystem directory, e.g. a busybox tree)",
                source.display()
            ));
        }
        Some(source) => copy_tree(source, dir)?,
        None => {
            vessel::rootfs::build_from(dir, &vessel::rootfs::source()).map_err(|(step, e)| {
                format!("build the test rootfs at {}: {step}: {e}", dir.display())
            })?
        }
    }
    let inside = |p: &str| dir.join(p.trim_start_matches('/'));
    let io = |what: &str, p: &Path| {
        let (what, p) = (what.to_owned(), p.display().to_string());
        move |e: std::io::Error| format!("{what} {p}: {e}")
    };
    let dest = inside(PROBE_IN_ROOTFS);
    fs::copy(probe, &dest).map_err(io("copy the probe to", &dest))?;
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o755)).map_err(io("chmod", &dest))?;
    let data = inside(DATA_DIR);
    fs::create_dir_all(&data).map_err(io("create", &data))?;
    fs::write(data.join("a"), "a\n").map_err(io("write", &data))?;
    fs::write(data.join("b"), "b\n").map_err(io("write", &data))?;
    let big = inside(BIG_FILE);
    let pattern: Vec<u8> = (0..BIG_FILE_LEN).map(|i| (i % 251) as u8).collect();
    fs::write(&big, pattern).map_err(io("write", &big))?;
    let late = inside(LATE_DIR);
    fs::create_dir_all(&late).map_err(io("create", &late))?;
    Ok(())
}

/// `cp -a`: keeps owners, modes, symlinks and device nodes exactly.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .map_err(|e| format!("run cp -a: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cp -a {} {} failed ({status})",
            from.display(),
            to.display()
        ));
    }
    Ok(())
}
