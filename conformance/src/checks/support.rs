//! What most checks do: run the probe, read its report, compare with the host.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::check::Ctx;
use crate::runtime::{Finished, Request, Session};

/// The probe's `report` line.
#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)] // every field is part of the probe's report; not every check reads all
pub struct Report {
    pub pid: i64,
    pub ppid: i64,
    pub uid: i64,
    pub gid: i64,
    pub visible_pids: Vec<i64>,
    pub proc_self: String,
    pub hostname: String,
    pub uid_map: String,
    pub gid_map: String,
    pub mountinfo: Vec<String>,
    pub cgroup: Vec<String>,
    pub interfaces: Vec<String>,
    pub routes: i64,
    pub sysv_msg_keys: Vec<String>,
    pub sysv_shm_keys: Vec<String>,
    pub root: String,
    pub devices: Vec<String>,
    pub paths: BTreeMap<String, bool>,
    pub ns: BTreeMap<String, String>,
    pub cgroup_files: BTreeMap<String, String>,
    pub status: BTreeMap<String, String>,
    pub no_new_privs: i64,
}

impl Report {
    /// Parses a `report` line.
    pub fn from(value: &Value) -> Result<Report, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("bad probe report: {e}"))
    }

    /// The mount points the container sees.
    pub fn mount_points(&self) -> Vec<String> {
        self.mountinfo
            .iter()
            .map(|l| crate::host::mount_point(l))
            .collect()
    }
}

/// Whether the report names a namespace of type `name` and it is not the host's (an
/// empty link, a probe that could not read `/proc/self/ns`, proves nothing).
pub fn own_ns(report: &Report, name: &str) -> bool {
    let link = report.ns.get(name).map(String::as_str).unwrap_or_default();
    !link.is_empty() && link != crate::host::ns(name)
}

/// Runs the probe with `request` to the end and returns its report.
pub fn report(ctx: &Ctx, request: &Request) -> Result<(Report, Finished), String> {
    let finished = ctx.runtime.run(ctx.world, request)?;
    let report = Report::from(finished.line("report")?)?;
    Ok((report, finished))
}

/// Runs the probe with `actions` and returns its report.
pub fn report_of(ctx: &Ctx, actions: &[&str]) -> Result<Report, String> {
    let mut args: Vec<&str> = actions.to_vec();
    if !args.contains(&"report") {
        args.push("report");
    }
    Ok(report(ctx, &Request::probe(&args))?.0)
}

/// Starts `request` (whose actions end in `report hold`) and returns the session and
/// the first report: the container certainly runs until the session is finished.
pub fn held(ctx: &Ctx, mut request: Request) -> Result<(Session, Report), String> {
    request
        .args
        .extend(["report".to_owned(), "hold".to_owned()]);
    let mut session = ctx.runtime.start(ctx.world, &request)?;
    let mut report = None;
    // Earlier actions answer first; the report is the last line before holding.
    for action in request.args.iter().filter(|a| is_action(a)) {
        let kind = action.replace('-', "_");
        let line = session.next(if kind == "mount_tmpfs" {
            "mount"
        } else {
            &kind
        })?;
        if action == "report" {
            report = Some(Report::from(&line)?);
        }
    }
    let report = report.ok_or("the probe sent no report")?;
    Ok((session, report))
}

/// The probe's words that print a line (not their arguments).
fn is_action(word: &str) -> bool {
    matches!(
        word,
        "report"
            | "orphan"
            | "background"
            | "spin"
            | "eat"
            | "forks"
            | "write"
            | "stat"
            | "cat"
            | "breakout"
            | "mount-tmpfs"
            | "sethostname"
            | "kill-init"
            | "signal0"
            | "clocks"
    )
}

/// An integer field of a probe line.
pub fn int(line: &Value, field: &str) -> Result<i64, String> {
    line[field].as_i64().ok_or_else(|| {
        format!(
            "the probe's {} line has no number {field:?}: {line}",
            line["kind"]
        )
    })
}
