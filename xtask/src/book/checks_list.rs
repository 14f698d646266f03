//! The Proving chapter shows the conformance suite's own list of checks, and the lesson
//! chapters name the checks that prove them. The list is kept in
//! `book/src/proving/checks.txt` and compared with `vessel-conformance --list` on every
//! run, like a snapshot: a check added, renamed or reworded fails the book check until
//! the file is refreshed with `VESSEL_BOOK_BLESS=1 cargo xtask book-check`.

use std::fs;
use std::process::Command;

use crate::shell;

/// Where the snapshot lives, relative to the workspace root.
pub const SNAPSHOT: &str = "book/src/proving/checks.txt";

/// Compares the snapshot with `--list`; returns the check ids it lists.
pub fn check(problems: &mut Vec<String>) -> Vec<String> {
    let path = shell::root().join(SNAPSHOT);
    let listed = match list() {
        Ok(listed) => listed,
        Err(problem) => {
            problems.push(problem);
            return Vec::new();
        }
    };
    let saved = fs::read_to_string(&path).unwrap_or_default();
    if saved != listed {
        if std::env::var_os("VESSEL_BOOK_BLESS").is_some() {
            if let Err(e) = fs::write(&path, &listed) {
                problems.push(format!("{SNAPSHOT}: {e}"));
            } else {
                println!("xtask: book check: wrote {SNAPSHOT} from vessel-conformance --list");
            }
        } else {
            problems.push(format!(
                "{SNAPSHOT} differs from `vessel-conformance --list`: check the chapters that \
                 name the changed checks, then refresh it with \
                 `VESSEL_BOOK_BLESS=1 cargo xtask book-check`\n{}",
                changed_lines(&saved, &listed)
            ));
        }
    }
    ids(&listed)
}

/// The lines only one side has, marked `-` (the snapshot) and `+` (the suite).
fn changed_lines(saved: &str, listed: &str) -> String {
    let gone = saved.lines().filter(|l| !listed.lines().any(|n| n == *l));
    let new = listed.lines().filter(|l| !saved.lines().any(|o| o == *l));
    gone.map(|l| format!("    - {l}"))
        .chain(new.map(|l| format!("    + {l}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `vessel-conformance --list`, which needs no root and runs nothing.
fn list() -> Result<String, String> {
    let out = Command::new(shell::cargo())
        .args(["run", "--quiet", "-p", "vessel-conformance", "--bin"])
        .args(["vessel-conformance", "--", "--list"])
        .current_dir(shell::root())
        .output()
        .map_err(|e| format!("cargo run vessel-conformance --list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`vessel-conformance --list` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("vessel-conformance --list: {e}"))
}

/// The first column of each check line (`area.name`); the last line is the count.
fn ids(listed: &str) -> Vec<String> {
    listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|id| id.contains('.'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{changed_lines, ids};

    #[test]
    fn shows_what_changed() {
        let saved = "a.one   first\nb.two   second\n2 checks\n";
        let listed = "a.one   first\nb.two   second, reworded\n2 checks\n";
        assert_eq!(
            changed_lines(saved, listed),
            "    - b.two   second\n    + b.two   second, reworded"
        );
    }

    #[test]
    fn reads_the_ids_of_a_list() {
        let listed = "pid.init-is-pid-1       The first process is PID 1.\n\
                      uts.own-namespace       Its own UTS namespace.\n2 checks\n";
        assert_eq!(ids(listed), ["pid.init-is-pid-1", "uts.own-namespace"]);
    }
}
