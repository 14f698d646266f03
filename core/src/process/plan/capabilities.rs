//! The capability steps: the last steps before `execve`, after every step that needs a
//! privilege (mounts, `pivot_root`, `sethostname`, `setns` into the time namespace,
//! `TIOCSCTTY`). Order matters: dropping from the bounding set needs `CAP_SETPCAP`, so
//! it comes before `capset` lowers the effective set.

use super::step::Step;
use crate::process::error::{ProcessError, Result};
use crate::security::capabilities::{self, CapSet, Capabilities};

// ANCHOR: capability_steps
/// The steps that leave the process with exactly `caps`, on a kernel whose highest
/// capability is `last_cap`.
pub fn steps(caps: &Capabilities, last_cap: u32) -> Vec<Step> {
    let mut steps: Vec<Step> = CapSet::up_to(last_cap)
        .minus(caps.bounding)
        .numbers()
        .map(Step::DropBoundingCapability)
        .collect();
    steps.push(Step::SetCapabilities {
        effective: caps.effective,
        permitted: caps.permitted,
        inheritable: caps.inheritable,
    });
    steps.push(Step::ClearAmbientCapabilities);
    steps.extend(caps.ambient.numbers().map(Step::RaiseAmbientCapability));
    steps
}
// ANCHOR_END: capability_steps

/// Checks the kernel would take `caps` from a process holding `available`.
pub fn validate(caps: &Capabilities, available: CapSet) -> Result<()> {
    if let Some(why) = caps.inconsistency() {
        return Err(ProcessError::InvalidCapabilities(why));
    }
    let missing = caps.union().minus(available);
    if missing != CapSet::EMPTY {
        return Err(ProcessError::CapabilitiesUnavailable {
            missing: missing.to_string(),
        });
    }
    Ok(())
}

/// The steps for a container with `caps` (none for `None`: keep everything).
pub fn plan(caps: Option<&Capabilities>, user_namespace: bool) -> Result<Vec<Step>> {
    let Some(caps) = caps else {
        return Ok(Vec::new());
    };
    validate(caps, capabilities::available(user_namespace))?;
    Ok(steps(caps, capabilities::last_cap()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::capabilities::DOCKER_DEFAULT;

    #[test]
    fn every_capability_outside_the_bounding_set_is_dropped_before_capset() {
        let steps = steps(&Capabilities::docker_default(), 40);
        let dropped: Vec<u32> = steps
            .iter()
            .filter_map(|s| match s {
                Step::DropBoundingCapability(cap) => Some(*cap),
                _ => None,
            })
            .collect();
        assert_eq!(dropped.len(), 41 - 14);
        assert!(dropped.iter().all(|cap| !DOCKER_DEFAULT.contains(*cap)));
        let capset = steps
            .iter()
            .position(|s| matches!(s, Step::SetCapabilities { .. }))
            .unwrap();
        assert_eq!(capset, dropped.len(), "capset after every bounding drop");
        assert!(matches!(steps[capset + 1], Step::ClearAmbientCapabilities));
        assert_eq!(steps.len(), capset + 2);
    }

    #[test]
    fn asking_for_a_capability_the_caller_lacks_is_refused() {
        let caps = Capabilities::only(DOCKER_DEFAULT.with(24));
        let error = validate(&caps, CapSet::up_to(40).without(24)).unwrap_err();
        assert!(error.to_string().contains("CAP_SYS_RESOURCE"), "{error}");
        assert!(validate(&caps, CapSet::up_to(40)).is_ok());
    }
}
