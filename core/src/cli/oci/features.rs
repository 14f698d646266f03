//! `vessel features`: the runtime-spec "features.md" document: what this runtime
//! supports, so a client can check before it asks.

use crate::error::Result;

/// Prints the features document.
pub fn features() -> Result<i32> {
    let caps: Vec<String> = crate::security::capabilities::NAMES
        .iter()
        .map(|name| format!("CAP_{name}"))
        .collect();
    let document = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::oci::state::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer",
                  "poststart", "poststop"],
        "mountOptions": ["bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec",
                         "private", "rprivate", "relatime", "size", "mode"],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"],
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                            "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                              "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"],
                "archs": ["SCMP_ARCH_X86_64"]
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {"org.opencontainers.runtime-spec.features.implementation": "vessel"}
    });
    let text = serde_json::to_string_pretty(&document).expect("features serialize");
    crate::cli::output::outln!("{text}");
    Ok(0)
}
