//! Whether a rootless caller may have a cgroup at all: only in one delegated to it.

use super::error::{CgroupError, Result};
use super::layout::Layout;

// ANCHOR: rootless_cgroup
/// A rootless caller may only get cgroup limits in a cgroup delegated to it (one it can
/// write, e.g. systemd's `Delegate=yes` for user sessions). Checked before anything is
/// created, so the refusal says why instead of failing on a `mkdir` deep inside.
pub fn check_delegation(wanted: bool) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 || !wanted {
        return Ok(());
    }
    let layout = Layout::of_this_process()?;
    let own_dirs: Vec<std::path::PathBuf> = match layout {
        Layout::V1(hierarchies) => hierarchies.into_iter().map(|h| h.own).collect(),
        Layout::V2 { own, .. } => vec![own],
    };
    for dir in own_dirs {
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
            return Err(CgroupError::Rootless { uid, dir });
        }
    }
    Ok(())
}
// ANCHOR_END: rootless_cgroup
