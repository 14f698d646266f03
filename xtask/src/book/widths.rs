//! Code included in the book is read on a page, not in an editor: a line wider than the
//! page scrolls sideways and hides its end (the call's arguments, the error's reason).
//! The page is made wide enough for 100 columns (`book/code-width.css`), rustfmt's width;
//! this check holds every line of included code to it, so a long string or comment that
//! rustfmt leaves alone is caught. Transcripts (snapshots, recorded runs) are output, not
//! code, and are not checked.

use std::fs;
use std::path::PathBuf;

/// The widest line a code include may have, in characters.
pub const MAX_COLUMNS: usize = 100;

/// Checks every code include of every chapter; returns how many lines were checked.
pub fn check(chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let mut count = 0;
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        for include in text.split("{{#include ").skip(1) {
            let Some((arg, _)) = include.split_once("}}") else {
                continue;
            };
            let arg = arg.trim();
            if arg.contains("snapshots/") || arg.contains("runs/") || arg.ends_with(".txt") {
                continue;
            }
            let (file, anchor) = arg.split_once(':').unwrap_or((arg, ""));
            let path = chapter.parent().unwrap_or(chapter).join(file);
            let source = fs::read_to_string(&path).unwrap_or_default();
            for (number, line) in included(&source, anchor) {
                count += 1;
                let width = line.trim_end().chars().count();
                if width > MAX_COLUMNS {
                    problems.push(format!(
                        "{}: {file}:{number} is {width} columns wide (at most {MAX_COLUMNS}, or \
                         the page scrolls sideways): wrap it, or move the anchor",
                        chapter.display()
                    ));
                }
            }
        }
    }
    count
}

/// The `(line number, line)` an include shows: the anchor's lines (without the lines of
/// other anchors' markers), a `start:end` range, or the whole file.
fn included<'a>(source: &'a str, selector: &str) -> Vec<(usize, &'a str)> {
    let lines = source.lines().enumerate().map(|(i, l)| (i + 1, l));
    if selector.is_empty() {
        return lines.collect();
    }
    if selector.starts_with(|c: char| c.is_ascii_digit()) {
        let mut bounds = selector.split(':').map(|n| n.parse::<usize>().ok());
        let start = bounds.next().flatten().unwrap_or(1);
        let end = bounds.next().flatten().unwrap_or(usize::MAX);
        return lines.filter(|(n, _)| *n >= start && *n <= end).collect();
    }
    let (begin, end) = (
        format!("ANCHOR: {selector}"),
        format!("ANCHOR_END: {selector}"),
    );
    let mut inside = false;
    let mut shown = Vec::new();
    for (number, line) in lines {
        if line.contains(&end) {
            inside = false;
        } else if line.contains(&begin) {
            inside = true;
        } else if inside && !line.contains("ANCHOR") {
            shown.push((number, line));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchor_shows_its_lines_without_markers() {
        let source = "a\n// ANCHOR: x\nb\n// ANCHOR: y\nc\n// ANCHOR_END: y\n// ANCHOR_END: x\nd";
        assert_eq!(included(source, "x"), [(3, "b"), (5, "c")]);
        assert_eq!(included(source, "2:3"), [(2, "// ANCHOR: x"), (3, "b")]);
        assert_eq!(included(source, "").len(), 8);
    }
}
