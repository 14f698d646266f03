//! The child's capability steps: the last thing it does before `execve`, once nothing
//! left in the plan needs a privilege. Raw system calls only (see [`crate::process::child`]).

use crate::process::plan::step::Step;
use crate::security::capabilities::{CapHeader, LINUX_CAPABILITY_VERSION_3, cap_data};
use crate::sys::errno::check;

/// Runs one capability step; any other step is a bug in the dispatcher (`EINVAL`).
pub fn run_step(step: &Step) -> Result<(), i32> {
    match step {
        // ANCHOR: drop_capabilities
        Step::DropBoundingCapability(cap) => prctl(libc::PR_CAPBSET_DROP, *cap as libc::c_ulong, 0),
        Step::SetCapabilities {
            effective,
            permitted,
            inheritable,
        } => {
            let mut header = CapHeader {
                version: LINUX_CAPABILITY_VERSION_3,
                pid: 0,
            };
            let data = cap_data(*effective, *permitted, *inheritable);
            // SAFETY: `header` is a valid v3 header naming this thread (pid 0) and
            // `data` the two 32-bit halves v3 reads; both live on this stack frame.
            check(unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) })
        }
        Step::ClearAmbientCapabilities => prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
        ),
        // ANCHOR_END: drop_capabilities
        Step::RaiseAmbientCapability(cap) => prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            *cap as libc::c_ulong,
        ),
        _ => Err(libc::EINVAL),
    }
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> Result<(), i32> {
    // SAFETY: the capability options of prctl take integers only, no pointers; unused
    // arguments must be zero, as they are.
    check(unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) }.into())
}
