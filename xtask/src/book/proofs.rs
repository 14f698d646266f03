//! The "What proves it" sections name tests and conformance checks; a rename would leave
//! the book pointing at nothing. This check finds every named test and check.
//!
//! A list item of the form ``- `core/tests/FILE.rs`: `test_a`, `test_b` `` (wrapped or
//! not; any `.rs` file) names test functions in FILE; a line ``- Conformance: `area.name`, … `` names conformance checks, which must
//! be in the suite's `--list` (see `checks_list`).

use std::fs;
use std::path::PathBuf;

use crate::shell;

/// Checks every test and conformance check the chapters name; returns how many. `checks`
/// are the ids the suite lists.
pub fn check(chapters: &[PathBuf], checks: &[String], problems: &mut Vec<String>) -> usize {
    let mut named = 0;
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        let mut report =
            |problem: String| problems.push(format!("{}: {problem}", chapter.display()));
        for item in list_items(&text) {
            if let Some(ids) = item.strip_prefix("- Conformance: ") {
                for id in backticked(ids) {
                    named += 1;
                    if !checks.iter().any(|known| known == id) {
                        report(format!(
                            "no conformance check {id} in `vessel-conformance --list`"
                        ));
                    }
                }
                continue;
            }
            let Some((file, names)) = item
                .strip_prefix("- `")
                .and_then(|rest| rest.split_once("`: "))
            else {
                continue;
            };
            if !file.ends_with(".rs") {
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
    }
    named
}

/// The items of the Markdown lists in `text`, each with its wrapped lines joined.
fn list_items(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut in_item = false;
    for line in text.lines() {
        if line.starts_with("- ") {
            items.push(line.to_owned());
            in_item = true;
        } else if in_item && line.starts_with(' ') && !line.trim().is_empty() {
            if let Some(item) = items.last_mut() {
                item.push(' ');
                item.push_str(line.trim());
            }
        } else {
            in_item = false;
        }
    }
    items
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

#[cfg(test)]
mod tests {
    use super::{backticked, is_identifier, list_items};

    #[test]
    fn joins_the_wrapped_lines_of_an_item() {
        let text = "- `a.rs`: `one`,\n  `two`\n- `b.rs`: `three`\n\nafter\n  indented";
        assert_eq!(
            list_items(text),
            ["- `a.rs`: `one`, `two`", "- `b.rs`: `three`"]
        );
    }

    #[test]
    fn reads_test_names_from_a_proof_line() {
        let names: Vec<&str> = backticked("`a_test`, `another_one` and `not a name`")
            .filter(|n| is_identifier(n))
            .collect();
        assert_eq!(names, ["a_test", "another_one"]);
    }
}
