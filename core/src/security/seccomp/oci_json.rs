//! A profile rendered as the OCI runtime spec's `linux.seccomp` JSON, so that an OCI
//! runtime (runc, crun, youki) can be given exactly vessel's filter: docker's
//! `includes`/`excludes` are resolved for the container (as docker does before it writes
//! config.json) and dropped, since the OCI form has no conditions.

use serde_json::{Value, json};

use super::compile::{Target, applies};
use super::{Profile, SeccompError};

/// `profile` as OCI `linux.seccomp` JSON for a container described by `target`.
pub fn to_oci_json(profile: &Profile, target: Target) -> Result<Value, SeccompError> {
    let mut syscalls = Vec::new();
    for rule in &profile.syscalls {
        if !applies(rule, target)? {
            continue;
        }
        let mut entry = json!({
            "names": rule.all_names().collect::<Vec<_>>(),
            "action": rule.action,
        });
        if let Some(errno) = rule.errno_ret {
            entry["errnoRet"] = json!(errno);
        }
        if !rule.args.is_empty() {
            let args: Vec<Value> = rule
                .args
                .iter()
                .map(|a| json!({"index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op}))
                .collect();
            entry["args"] = json!(args);
        }
        syscalls.push(entry);
    }
    let mut oci = json!({
        "defaultAction": profile.default_action,
        "architectures": profile.architectures,
        "syscalls": syscalls,
    });
    if let Some(errno) = profile.default_errno_ret {
        oci["defaultErrnoRet"] = json!(errno);
    }
    Ok(oci)
}

/// docker's default profile as OCI `linux.seccomp` JSON for a container whose bounding
/// set is `bounding`, on the running kernel.
pub fn docker_default_oci_json(
    bounding: crate::security::capabilities::CapSet,
) -> Result<Value, SeccompError> {
    let target = Target {
        bounding,
        kernel: super::compile::running_kernel(),
    };
    to_oci_json(&super::docker_default(), target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::capabilities::DOCKER_DEFAULT;

    #[test]
    fn the_default_profile_round_trips_through_the_oci_form() {
        let oci = docker_default_oci_json(DOCKER_DEFAULT).unwrap();
        assert!(
            oci["syscalls"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r.get("includes").is_none())
        );
        let back = Profile::from_json(&oci.to_string()).unwrap();
        let names: Vec<&str> = back.syscalls.iter().flat_map(|r| r.all_names()).collect();
        assert!(names.contains(&"read"));
        assert!(!names.contains(&"keyctl"), "keyctl stays refused");
        assert!(
            !names.contains(&"mount"),
            "mount needs CAP_SYS_ADMIN, which docker drops"
        );
        let target = Target {
            bounding: DOCKER_DEFAULT,
            kernel: (6, 1),
        };
        assert!(super::super::compile(&back, target).is_ok());
    }
}
