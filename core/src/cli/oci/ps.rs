//! `vessel ps [--format table|json] ID`: the processes of a container made by
//! `vessel create`, from its cgroup.

use crate::error::Result;
use crate::state::Root;

/// Prints the pids (JSON: an array, as runc's `ps --format json`).
pub fn ps(root: &Root, id: &str, json: bool) -> Result<i32> {
    let (_, record, _) = super::load(root, id)?;
    let pids = super::kill::pids(&record);
    if json {
        crate::cli::output::outln!("{}", serde_json::to_string(&pids).expect("pids serialize"));
        return Ok(0);
    }
    crate::cli::output::outln!("{:<8} CMD", "PID");
    for pid in pids {
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|raw| {
                raw.split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        crate::cli::output::outln!("{pid:<8} {cmd}");
    }
    Ok(0)
}
