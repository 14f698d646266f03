//! The report: everything the container's world looks like from inside, read from the
//! same files a curious process would read.

use std::fs;
use std::os::unix::fs::MetadataExt;

use crate::json::Object;

/// Namespace types whose `/proc/self/ns` links the report includes.
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// Cgroup files the probe tries to read (v1 hierarchies, then the v2 unified one): where
/// a runtime mounts the cgroup filesystem inside, these show the limits it set.
const CGROUP_FILES: [&str; 10] = [
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
    "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
    "/sys/fs/cgroup/pids/pids.max",
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/cpu.max",
    "/sys/fs/cgroup/pids.max",
    "/sys/fs/cgroup/cgroup.controllers",
    "/sys/fs/cgroup/memory/memory.usage_in_bytes",
    "/sys/fs/cgroup/memory.current",
];

/// Fields of `/proc/self/status` about privilege.
const STATUS_FIELDS: [&str; 7] = [
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Seccomp",
];

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn lines(path: &str) -> Vec<String> {
    read(path).lines().map(str::to_owned).collect()
}

/// The pids `/proc` lists, in order.
fn visible_pids() -> Vec<i64> {
    let mut pids: Vec<i64> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// Interface names from `/proc/net/dev` (its first two lines are headers).
fn interfaces() -> Vec<String> {
    lines("/proc/net/dev")
        .iter()
        .skip(2)
        .filter_map(|l| Some(l.split(':').next()?.trim().to_owned()))
        .collect()
}

/// The keys column of a `/proc/sysvipc` table.
fn sysv_keys(path: &str) -> Vec<String> {
    lines(path)
        .iter()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is what we pass.
    let ret = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if ret != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether each path can be looked up at all (a dangling symlink counts as reachable).
fn reachable(paths: &[String]) -> Object {
    let mut object = Object::default();
    for path in paths {
        object.bool(path, fs::symlink_metadata(path).is_ok());
    }
    object
}

/// Every device node below `/dev` (two levels deep) as `PATH c|b MAJOR:MINOR`.
fn device_nodes() -> Vec<String> {
    use std::os::unix::fs::FileTypeExt;
    let mut nodes = Vec::new();
    let mut dirs = vec![(std::path::PathBuf::from("/dev"), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let kind = meta.file_type();
            let (major, minor) = (libc::major(meta.rdev()), libc::minor(meta.rdev()));
            let path = entry.path().display().to_string();
            if kind.is_char_device() {
                nodes.push(format!("{path} c {major}:{minor}"));
            } else if kind.is_block_device() {
                nodes.push(format!("{path} b {major}:{minor}"));
            } else if kind.is_dir() && depth < 1 {
                dirs.push((entry.path(), depth + 1));
            }
        }
    }
    nodes.sort();
    nodes
}

/// `dev:ino` of the directory the process sees as `/`.
pub fn root_identity() -> String {
    fs::metadata("/")
        .map(|m| format!("{}:{}", m.dev(), m.ino()))
        .unwrap_or_default()
}

/// The full report, checking reachability of `paths`.
pub fn report(paths: &[String]) -> Object {
    let mut o = Object::kind("report");
    // SAFETY: getpid, getppid, getuid and getgid have no preconditions and cannot fail.
    let (pid, ppid, uid, gid) = unsafe {
        (
            libc::getpid(),
            libc::getppid(),
            libc::getuid(),
            libc::getgid(),
        )
    };
    o.int("pid", pid.into())
        .int("ppid", ppid.into())
        .int("uid", uid.into())
        .int("gid", gid.into())
        .ints("visible_pids", &visible_pids())
        .str(
            "proc_self",
            &fs::read_link("/proc/self")
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
        .str("hostname", &hostname())
        .str("uid_map", &read("/proc/self/uid_map"))
        .str("gid_map", &read("/proc/self/gid_map"))
        .strs("mountinfo", &lines("/proc/self/mountinfo"))
        .strs("cgroup", &lines("/proc/self/cgroup"))
        .strs("interfaces", &interfaces())
        .int(
            "routes",
            lines("/proc/net/route").len().saturating_sub(1) as i64,
        )
        .strs("sysv_msg_keys", &sysv_keys("/proc/sysvipc/msg"))
        .strs("sysv_shm_keys", &sysv_keys("/proc/sysvipc/shm"))
        .str("root", &root_identity())
        .strs("devices", &device_nodes())
        .object("paths", &reachable(paths));
    let mut ns = Object::default();
    for name in NAMESPACES {
        let link = fs::read_link(format!("/proc/self/ns/{name}"))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        ns.str(name, &link);
    }
    o.object("ns", &ns);
    let mut files = Object::default();
    for file in CGROUP_FILES {
        if let Ok(text) = fs::read_to_string(file) {
            files.str(file, text.trim());
        }
    }
    o.object("cgroup_files", &files);
    let mut status = Object::default();
    for line in lines("/proc/self/status") {
        if let Some((key, value)) = line.split_once(':')
            && STATUS_FIELDS.contains(&key)
        {
            status.str(key, value.trim());
        }
    }
    o.object("status", &status);
    // SAFETY: PR_GET_NO_NEW_PRIVS takes no pointer arguments and only reads a flag.
    let nnp = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) };
    o.int("no_new_privs", nnp.into());
    o
}
