//! Loading the device program into the kernel and attaching it to a cgroup v2
//! directory: two `bpf(2)` calls, as runc, crun and youki make them. No crate: the two
//! attribute structs are a few fields each, and the BPF libraries (aya, libbpf-rs) are
//! large dependencies for what is one load and one attach.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::DeviceRules;
use super::bpf_program::{Insn, program};
use crate::cgroups::error::{CgroupError, CgroupStep, Result};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Other programs may be attached to the same cgroup and its parents, and all of them
/// must allow an access (runc attaches with this flag too).
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The `BPF_PROG_LOAD` part of `union bpf_attr`, up to `expected_attach_type`; the
/// kernel treats the fields after the size we pass as zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The `BPF_PROG_ATTACH` part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// The program needs no GPL-only helper; the kernel wants some license string.
const LICENSE: &CStr = c"Apache-2.0";
/// Room for the verifier's account of a refusal.
const LOG_SIZE: usize = 64 * 1024;

// ANCHOR: attach
/// Loads the program for `rules` and attaches it to the cgroup whose directory is
/// `cgroup` (open `O_DIRECTORY`). The cgroup keeps the program; our fd of it is closed.
pub fn attach(rules: &DeviceRules, cgroup: BorrowedFd<'_>) -> Result<()> {
    let program = load(&program(rules))?;
    let attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..ProgAttachAttr::default()
    };
    // SAFETY: `attr` is a live, initialised BPF_PROG_ATTACH attribute of the size we
    // pass; the kernel only reads it. Both fds are open for the whole call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attr as *const ProgAttachAttr,
            size_of::<ProgAttachAttr>() as u32,
        )
    };
    if ret == -1 {
        return Err(CgroupError::io(CgroupStep::AttachDeviceProgram)(
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}
// ANCHOR_END: attach

/// `bpf(BPF_PROG_LOAD)`: the verifier checks the program; its log is in the error.
fn load(insns: &[Insn]) -> Result<OwnedFd> {
    let mut log = vec![0u8; LOG_SIZE];
    let mut name = [0u8; 16];
    name[..13].copy_from_slice(b"vessel_devcgr");
    let attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        log_level: 1,
        log_size: LOG_SIZE as u32,
        log_buf: log.as_mut_ptr() as u64,
        prog_name: name,
        ..ProgLoadAttr::default()
    };
    // SAFETY: `attr` is a live BPF_PROG_LOAD attribute of the size we pass; the
    // instructions, license and log buffer it points to outlive the call, and the log
    // buffer is writable for `log_size` bytes.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &attr as *const ProgLoadAttr,
            size_of::<ProgLoadAttr>() as u32,
        )
    };
    if fd == -1 {
        let source = io::Error::last_os_error();
        let text = CStr::from_bytes_until_nul(&log)
            .map(|log| log.to_string_lossy().trim().to_owned())
            .unwrap_or_default();
        let step = CgroupStep::LoadDeviceProgram {
            instructions: insns.len(),
            needs_bpf_capability: source.raw_os_error() == Some(libc::EPERM),
            log: text,
        };
        return Err(CgroupError::io(step)(source));
    }
    // SAFETY: BPF_PROG_LOAD returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}
