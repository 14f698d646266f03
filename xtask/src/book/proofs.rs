//! The "What proves it" sections name tests and conformance checks; a rename would leave
//! the book pointing at nothing. This check finds every named test and check.
//!
//! A line of the form ``- `core/tests/FILE.rs`: `test_a`, `test_b` `` names test functions
//! in FILE; a `` `area.name` `` inside a ``<span class="check">`` names a conformance check,
//! which must be declared in `conformance/src/checks/` as `area: "area"` and
//! `name: "name"` of one `Check`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::shell;

/// Checks every test and conformance check the chapters name; returns how many.
pub fn check(chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let checks = conformance_sources();
    let mut named = 0;
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        let mut report =
            |problem: String| problems.push(format!("{}: {problem}", chapter.display()));
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("- `") else {
                continue;
            };
            let Some((file, names)) = rest.split_once("`: ") else {
                continue;
            };
            if !(file.ends_with(".rs") && file.contains("/tests/")) {
                continue;
            }
            let source = match fs::read_to_string(shell::root().join(file)) {
                Ok(source) => source,
                Err(e) => {
                    report(format!("{file}: {e}"));
                    continue;
                }
            };
            for name in backticked(names).filter(|n| is_identifier(n)) {
                named += 1;
                if !source.contains(&format!("fn {name}(")) {
                    report(format!("{file} has no test {name}"));
                }
            }
        }
        for span in text.split("<span class=\"check\">").skip(1) {
            let id = span.split("</span>").next().unwrap_or_default();
            let id = id.trim().trim_matches('`');
            named += 1;
            let Some((area, name)) = id.split_once('.') else {
                report(format!("conformance check {id:?} is not area.name"));
                continue;
            };
            let declared = checks.iter().any(|source| {
                source.contains(&format!("area: \"{area}\""))
                    && source.contains(&format!("name: \"{name}\""))
            });
            if !declared {
                report(format!(
                    "no conformance check {id} in conformance/src/checks"
                ));
            }
        }
    }
    named
}

fn backticked(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn conformance_sources() -> Vec<String> {
    let dir = shell::root().join("conformance/src/checks");
    rust_files(&dir)
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::{backticked, is_identifier};

    #[test]
    fn reads_test_names_from_a_proof_line() {
        let names: Vec<&str> = backticked("`a_test`, `another_one` and `not a name`")
            .filter(|n| is_identifier(n))
            .collect();
        assert_eq!(names, ["a_test", "another_one"]);
    }
}
