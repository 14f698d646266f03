//! The cgroup v2 device program on the real kernel, through the cgroup manager:
//! `Cgroup::restrict_devices` on a new, empty v2 cgroup below our own loads and attaches
//! it, and a process born into that cgroup (`CLONE_INTO_CGROUP`, so no process ever
//! moves out of the tree we started in) obeys it. On a hybrid host this is the unified
//! hierarchy, where the program works as on a pure v2 host even though vessel keeps its
//! containers' rules in the v1 devices hierarchy there.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use vessel::cgroups::{Cgroup, CgroupSpec, DeviceRule, DeviceRules, Layout, Resources, Version};
use vessel::process::clone::{Cloned, clone3_in};

/// The v2 hierarchy's layout: the machine's own on a v2 host, the unified hierarchy's
/// on a hybrid one.
fn v2_layout() -> Layout {
    match vessel::cgroups::detect(Path::new("/sys/fs/cgroup")).unwrap() {
        Version::V2 => Layout::of_this_process().unwrap(),
        Version::Hybrid => {
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
            let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
            Layout::from_texts(Version::V2, &mountinfo, &proc_cgroup).unwrap()
        }
        Version::V1 => panic!("no cgroup2 hierarchy is mounted: cannot test the v2 device program"),
    }
}

fn node(dir: &Path, name: &str, major: u32, minor: u32) -> CString {
    let path = dir.join(name);
    nix::sys::stat::mknod(
        &path,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        nix::sys::stat::makedev(major.into(), minor.into()),
    )
    .unwrap();
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// In a child born in `cgroup`: opens each of `paths` read-write and exits with one
/// bit per path, set when that open failed with EPERM (the device cgroup's answer).
fn eperm_bits_in(cgroup: &OwnedFd, paths: &[CString]) -> i32 {
    // SAFETY: the child below only calls open, close and _exit (async-signal-safe) on
    // C strings prepared before the clone, and never returns.
    match unsafe { clone3_in(0, Some(cgroup.as_fd())) }.expect("clone3 into the test cgroup") {
        Cloned::Child => {
            let mut bits = 0;
            for (i, path) in paths.iter().enumerate() {
                // SAFETY: `path` is a NUL-terminated string alive for the call.
                let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
                if fd >= 0 {
                    // SAFETY: `fd` was just opened by us.
                    unsafe { libc::close(fd) };
                } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
                    bits |= 1 << i;
                }
            }
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(bits) }
        }
        Cloned::Parent { pid, .. } => {
            let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
            match status {
                nix::sys::wait::WaitStatus::Exited(_, code) => code,
                other => panic!("the probe ended with {other:?}"),
            }
        }
    }
}

#[test]
fn the_bpf_device_program_refuses_what_the_rules_do_not_allow() {
    vessel::require_root!();
    let name = format!("test-{}-device-bpf", std::process::id());
    let mut cgroup =
        Cgroup::create_in(&v2_layout(), &CgroupSpec::new(&name, Resources::default())).unwrap();
    let dir = cgroup.clone_into_fd().unwrap().expect("a v2 cgroup");
    let nodes = tempfile::tempdir().unwrap();
    let paths = [
        node(nodes.path(), "null", 1, 3),
        node(nodes.path(), "kvm", 10, 232),
        node(nodes.path(), "kmsg", 1, 11),
        node(nodes.path(), "zero", 1, 5),
    ];
    // Before: nothing refuses (our own cgroup allows every device).
    assert_eq!(eperm_bits_in(&dir, &paths), 0b0000);
    let zero_read_only = DeviceRule::parse("c 1:5 r").unwrap();
    let rules = DeviceRules::deny_all()
        .allow(DeviceRule::parse("c 1:3 rwm").unwrap())
        .allow(zero_read_only);
    cgroup.restrict_devices(&rules).unwrap();
    // After: null opens; kvm and kmsg are refused; zero is refused for writing.
    assert_eq!(eperm_bits_in(&dir, &paths), 0b1110);
    // docker's defaults on top: null and zero open, kvm and kmsg still refused (every
    // program attached with BPF_F_ALLOW_MULTI must allow, and the first refuses zero rw).
    cgroup
        .restrict_devices(&DeviceRules::docker_default())
        .unwrap();
    assert_eq!(eperm_bits_in(&dir, &paths), 0b1110);
    let made = cgroup.dirs();
    cgroup.remove().unwrap();
    assert!(made.iter().all(|d| !d.exists()), "{made:?}");
}
