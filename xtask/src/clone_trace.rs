//! One traced start, to check issue 18's claim for cgroup v2: the container's first
//! process is born in its cgroup (`clone3` with `CLONE_INTO_CGROUP` and the cgroup's
//! directory fd), so nothing ever moves it there (no write to a `cgroup.procs`).
//!
//! `strace -f -y` follows every process of the start and names each descriptor's path,
//! so a write to `…/cgroup.procs` shows as such whichever process makes it.

use std::path::Path;
use std::process::Command;

/// What the trace of one start shows.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The `clone3` calls with `CLONE_INTO_CGROUP` among their flags.
    pub into_cgroup: Vec<String>,
    /// The writes to a `cgroup.procs` file (a migration by pid).
    pub migrations: Vec<String>,
}

impl Verdict {
    /// Reads strace's output (`-f -y`, with `clone3` and `write` traced).
    pub fn of(trace: &str) -> Verdict {
        let calls = |name: &str| {
            trace
                .lines()
                .filter(|line| line.contains(name))
                .map(|line| line.trim().to_owned())
                .collect::<Vec<_>>()
        };
        Verdict {
            into_cgroup: calls("clone3(")
                .into_iter()
                .filter(|line| line.contains("CLONE_INTO_CGROUP"))
                .collect(),
            migrations: calls("write(")
                .into_iter()
                .filter(|line| line.contains("cgroup.procs>"))
                .collect(),
        }
    }

    /// Born in its cgroup, never moved.
    pub fn holds(&self) -> bool {
        !self.into_cgroup.is_empty() && self.migrations.is_empty()
    }

    /// Lines for the report: the verdict, then the calls it rests on.
    pub fn report(&self) -> String {
        let mut out = format!(
            "clone-into-cgroup: {} ({} clone3 with CLONE_INTO_CGROUP, {} writes to cgroup.procs)\n",
            if self.holds() { "yes" } else { "NO" },
            self.into_cgroup.len(),
            self.migrations.len()
        );
        for line in self.into_cgroup.iter().chain(&self.migrations) {
            out.push_str(&format!("  {line}\n"));
        }
        out
    }
}

/// Runs `argv` once under `strace -f -y -e trace=clone3,write`, the trace written to
/// `output`; the verdict, or why there is none.
pub fn trace(argv: &[String], output: &Path) -> Result<Verdict, String> {
    let status = Command::new("strace")
        .args(["-f", "-y", "-e", "trace=clone3,write", "-o"])
        .arg(output)
        .args(argv)
        .status()
        .map_err(|e| format!("run strace: {e}"))?;
    if !status.success() {
        return Err(format!("`strace … {}` failed ({status})", argv.join(" ")));
    }
    let text =
        std::fs::read_to_string(output).map_err(|e| format!("read {}: {e}", output.display()))?;
    Ok(Verdict::of(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BORN_INSIDE: &str = r#"812   write(2</dev/null>, "x", 1) = 1
812   clone3({flags=CLONE_NEWNS|CLONE_NEWPID|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, stack=NULL, stack_size=0, cgroup=6</sys/fs/cgroup/vessel-peers/bench>}, 88) = 813
813   write(5<pipe:[123]>, "\0", 1) = 1
"#;

    const MIGRATED: &str = r#"812   clone3({flags=CLONE_NEWNS|CLONE_NEWPID, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 813
812   write(6</sys/fs/cgroup/vessel-peers/bench/cgroup.procs>, "813", 3) = 3
"#;

    #[test]
    fn born_in_the_cgroup_holds_and_a_migration_does_not() {
        let inside = Verdict::of(BORN_INSIDE);
        assert!(inside.holds(), "{inside:?}");
        assert_eq!(inside.into_cgroup.len(), 1);
        assert!(
            inside
                .report()
                .starts_with("clone-into-cgroup: yes (1 clone3")
        );
        let migrated = Verdict::of(MIGRATED);
        assert!(!migrated.holds());
        assert_eq!(migrated.migrations.len(), 1);
        assert!(migrated.into_cgroup.is_empty());
        // Born inside and then moved anyway is a migration too.
        let both = Verdict::of(&format!("{BORN_INSIDE}{MIGRATED}"));
        assert!(!both.holds());
        assert!(both.report().starts_with("clone-into-cgroup: NO"));
    }
}
