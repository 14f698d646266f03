//! Whether this kernel has what a check needs; a check that cannot run says why.

use std::fs;
use std::path::Path;

use vessel::cgroups::Layout;

use crate::check::Needs;
use crate::runtime::Runtime;

/// `None` if a check needing `needs` can run here with `runtime`, else the reason to
/// skip it.
pub fn missing(needs: &[Needs], runtime: &Runtime) -> Option<String> {
    needs.iter().find_map(|need| missing_one(*need, runtime))
}

fn missing_one(needs: Needs, runtime: &Runtime) -> Option<String> {
    match needs {
        Needs::VesselApi => (!runtime.is_vessel()).then(|| {
            "vessel-only: it uses vessel's own API (image layers, commit, chroot mode, time offsets, --userns on an image store)"
                .to_owned()
        }),
        Needs::Controller(name) => (!has_controller(name))
            .then(|| format!("the kernel offers no {name} cgroup controller to this process")),
        Needs::UserNamespaces => (!Path::new("/proc/self/ns/user").exists()
            || read_number("/proc/sys/user/max_user_namespaces") == Some(0))
        .then(|| {
            "user namespaces are not available (CONFIG_USER_NS, max_user_namespaces)".to_owned()
        }),
        Needs::Overlay => {
            (!has_overlay()).then(|| "overlayfs is not available (modprobe overlay)".to_owned())
        }
        Needs::TimeNamespaces => (!Path::new("/proc/self/ns/time").exists()).then(|| {
            "time namespaces are not available (Linux 5.6+, CONFIG_TIME_NS)".to_owned()
        }),
    }
}

fn read_number(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn has_overlay() -> bool {
    fs::read_to_string("/proc/filesystems").is_ok_and(|t| t.lines().any(|l| l.ends_with("overlay")))
}

/// A v1 hierarchy with the controller, or a v2 parent that offers it.
pub fn has_controller(name: &str) -> bool {
    match Layout::of_this_process() {
        Ok(Layout::V1(hierarchies)) => hierarchies
            .iter()
            .any(|h| h.controllers.iter().any(|c| c == name)),
        Ok(Layout::V2 { own, .. }) => fs::read_to_string(own.join("cgroup.controllers"))
            .is_ok_and(|t| t.split_whitespace().any(|c| c == name)),
        Err(_) => false,
    }
}
