//! The command line, and the whole run: prepare, check each runtime, print, exit code.

use std::path::PathBuf;

use crate::runner::{self, Result};
use crate::runtime::oci::KNOWN;
use crate::world::{Sources, World};
use crate::{checks, output};

/// What the command line asks for.
#[derive(Debug, Default)]
pub struct Options {
    /// Runtimes to check, in order.
    pub runtimes: Vec<String>,
    /// Only checks whose `area.name` contains this (or, comma-separated, any of these).
    pub filter: Option<String>,
    /// List the checks instead of running them.
    pub list: bool,
    /// Print the results as JSON instead of lines.
    pub json: bool,
    /// Where the probe and rootfs come from.
    pub sources: Sources,
}

/// Usage text.
pub const USAGE: &str =
    "usage: vessel-conformance [--runtime vessel|runc|crun|youki|all|PATH]... [--filter TEXT]
                          [--list] [--json] [--probe PATH] [--rootfs DIR] [--work-dir DIR]
                          [--cgroup-parent PATH]

Checks isolation invariants (PID, UTS, mount, IPC, network, user, cgroup, layers, volumes,
exec, process, time, cleanup) against the real kernel, as root. One line per check, then
`N passed, N failed, N skipped`; exit status 1 if any check failed.

  --runtime R    vessel (default), runc, crun, youki, or all (prints the runtime x check table);
                 or the path of any OCI runtime binary (with a '/', e.g. ./target/debug/level-2):
                 driven like runc (RUNTIME run --bundle DIR ID, kill, state, delete), and
                 every check fails rather than skips when it cannot start a container
  --filter TEXT  only the checks whose name (area.name) contains TEXT; TEXT,TEXT,...: any of them
  --list         list the checks and their claims; run nothing
  --json         one JSON array of results on stdout instead of lines
  --probe PATH   the static vessel-probe binary (default: beside this executable, or $VESSEL_PROBE)
  --rootfs DIR   copy this rootfs instead of building vessel's default one (busybox)
  --work-dir DIR where to put the work directory (default /var/tmp)
  --cgroup-parent PATH
                 put the containers' cgroups under PATH (absolute, from the hierarchy's root;
                 e.g. a delegated cgroup on a systemd v2 host), not below the suite's own";

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> std::result::Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--runtime" => match value("--runtime")?.as_str() {
                "all" => {
                    options.runtimes.push("vessel".to_owned());
                    options
                        .runtimes
                        .extend(KNOWN.iter().map(|s| (*s).to_owned()));
                }
                name if name == "vessel" || KNOWN.contains(&name) || name.contains('/') => {
                    options.runtimes.push(name.to_owned());
                }
                other => {
                    return Err(format!(
                        "--runtime {other}: unknown runtime (use vessel, runc, crun, youki, all, \
                         or a path such as ./{other})"
                    ));
                }
            },
            "--filter" => options.filter = Some(value("--filter")?),
            "--list" => options.list = true,
            "--json" => options.json = true,
            "--probe" => options.sources.probe = Some(PathBuf::from(value("--probe")?)),
            "--rootfs" => options.sources.rootfs = Some(PathBuf::from(value("--rootfs")?)),
            "--cgroup-parent" => {
                options.sources.cgroup_parent = Some(PathBuf::from(value("--cgroup-parent")?));
            }
            "--work-dir" => {
                options.sources.work_parent = Some(PathBuf::from(value("--work-dir")?));
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if options.runtimes.is_empty() {
        options.runtimes.push("vessel".to_owned());
    }
    options.runtimes.dedup();
    Ok(options)
}

/// Whether a check `id` is selected by `filter`: it contains the text, or one of the
/// comma-separated texts (a check id never holds a comma).
fn matches_filter(id: &str, filter: &str) -> bool {
    filter
        .split(',')
        .any(|part| !part.is_empty() && id.contains(part))
}

/// Runs what `options` ask for; returns the process exit code.
pub fn run(options: &Options) -> i32 {
    let checks: Vec<_> = checks::all()
        .into_iter()
        .filter(|c| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| matches_filter(&c.id(), f))
        })
        .collect();
    if options.list {
        for check in &checks {
            let needs: Vec<String> = check.needs.iter().map(|n| n.describe()).collect();
            let needs = if needs.is_empty() {
                String::new()
            } else {
                format!(" [needs {}]", needs.join(", "))
            };
            println!("{:<40} {}{needs}", check.id(), check.claim);
        }
        println!("{} checks", checks.len());
        return 0;
    }
    if checks.is_empty() {
        eprintln!(
            "vessel-conformance: no check matches --filter {:?}",
            options.filter
        );
        return 2;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!(
            "vessel-conformance: needs root (it creates namespaces, cgroups and mounts); run it as root"
        );
        return 2;
    }
    let world = match World::prepare(&options.sources) {
        Ok(world) => world,
        Err(e) => {
            eprintln!("vessel-conformance: {e}");
            return 2;
        }
    };
    let cgroup_paths = crate::leaks::CgroupPaths::record(world.cgroup_parent.as_deref());
    let several = options.runtimes.len() > 1;
    let mut all: Vec<Result> = Vec::new();
    for name in &options.runtimes {
        let runtime = runner::resolve(name, &world);
        if !options.json {
            match &runtime {
                Ok(_) => println!("# {name}"),
                Err(reason) => println!("# {name}: every check skipped: {reason}"),
            }
        }
        let mut print = |r: &Result| {
            if !options.json {
                output::line(r, several);
            }
        };
        let unusable = format!("{name} cannot be used here (see above)");
        let results = runner::run_all(
            &world,
            name,
            runtime.as_ref().map_err(|_| unusable.as_str()),
            &checks,
            &mut print,
        );
        all.extend(results);
    }
    cgroup_paths.remove_created();
    let cleaned = world.remove();
    let count = |v: &str| all.iter().filter(|r| r.verdict == v).count();
    let (passed, failed, skipped) = (count("ok"), count("not ok"), count("skip"));
    if options.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_else(|e| format!("\"{e}\""))
        );
    } else {
        if several {
            output::table(&options.runtimes, &all);
        }
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    }
    if let Err(e) = cleaned {
        eprintln!("vessel-conformance: {e}");
        return 1;
    }
    i32::from(failed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn vessel_is_the_default_runtime_and_all_means_every_known_one() {
        assert_eq!(parse(&[]).unwrap().runtimes, ["vessel"]);
        assert_eq!(
            parse(&args("--runtime all")).unwrap().runtimes,
            ["vessel", "runc", "crun", "youki"]
        );
    }

    #[test]
    fn a_path_is_a_runtime_and_a_filter_may_list_several() {
        let options = parse(&args("--runtime ./learner --filter uts.,pid.init")).unwrap();
        assert_eq!(options.runtimes, ["./learner"]);
        assert!(matches_filter("uts.own-namespace", "uts.,pid.init"));
        assert!(matches_filter("pid.init-is-pid-1", "uts.,pid.init"));
        assert!(!matches_filter("pid.orphans-reaped", "uts.,pid.init"));
        assert!(!matches_filter("pid.orphans-reaped", "uts.,"));
    }

    #[test]
    fn bad_arguments_say_what_was_asked() {
        let err = parse(&args("--runtime docker")).unwrap_err();
        assert!(err.contains("--runtime docker: unknown runtime"), "{err}");
        let err = parse(&args("--filter")).unwrap_err();
        assert!(err.starts_with("--filter needs a value"), "{err}");
        let err = parse(&args("--frobnicate")).unwrap_err();
        assert!(
            err.starts_with("unknown argument \"--frobnicate\""),
            "{err}"
        );
    }

    #[test]
    fn every_check_has_a_unique_name_and_a_claim() {
        let checks = checks::all();
        assert!(checks.len() >= 40, "only {} checks", checks.len());
        let mut ids: Vec<String> = checks.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), checks.len(), "duplicate check names");
        for check in &checks {
            assert!(
                check.claim.ends_with('.'),
                "{}: claim is not a sentence",
                check.id()
            );
        }
    }
}
