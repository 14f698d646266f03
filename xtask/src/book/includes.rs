//! Every `{{#include}}` resolves (file and anchor), and every `demo-*` binary has a
//! chapter that includes its snapshot: the checks that keep the book tied to the code.

use std::fs;
use std::path::{Path, PathBuf};

use crate::shell;

/// Checks every include of every chapter and that each demo's snapshot is included
/// somewhere. Returns how many includes resolved; pushes each problem found.
pub fn check(chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let mut included = Vec::new();
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        for include in includes(&text) {
            match resolve(chapter, &include) {
                Ok(path) => included.push(path),
                Err(problem) => problems.push(format!("{}: {problem}", chapter.display())),
            }
        }
    }
    for demo in demo_names() {
        let snapshot = shell::root().join(format!("demos/tests/snapshots/{demo}.snap"));
        // Compared canonical to canonical: the includes were resolved through the file system.
        let snapshot = snapshot.canonicalize().unwrap_or(snapshot);
        if !included.iter().any(|p| p == &snapshot) {
            problems.push(format!(
                "{demo} has no chapter including demos/tests/snapshots/{demo}.snap"
            ));
        }
    }
    included.len()
}

/// Every `.md` file under `dir`, sorted.
pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The arguments of every `{{#include …}}` in `text`.
fn includes(text: &str) -> Vec<String> {
    text.split("{{#include ")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(arg, _)| arg.trim().to_owned()))
        .collect()
}

/// Checks one include argument (`path`, `path:anchor` or `path:start:end`).
fn resolve(chapter: &Path, include: &str) -> Result<PathBuf, String> {
    let mut parts = include.splitn(2, ':');
    let file = parts.next().unwrap_or_default();
    let selector = parts.next();
    let path = chapter.parent().unwrap_or(Path::new(".")).join(file);
    let text = fs::read_to_string(&path).map_err(|e| format!("include {file}: {e}"))?;
    let path = path.canonicalize().map_err(|e| format!("{file}: {e}"))?;
    if let Some(anchor) = selector.filter(|s| !s.starts_with(|c: char| c.is_ascii_digit())) {
        let anchor = anchor.split(':').next().unwrap_or(anchor);
        if !text.contains(&format!("ANCHOR: {anchor}"))
            || !text.contains(&format!("ANCHOR_END: {anchor}"))
        {
            return Err(format!("include {file}: no anchor {anchor:?}"));
        }
    }
    Ok(path)
}

/// The `demo-*` binaries in `demos/src/bin`.
fn demo_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(shell::root().join("demos/src/bin"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".rs")?.to_owned();
            name.starts_with("demo-").then_some(name)
        })
        .collect();
    names.sort();
    names
}
