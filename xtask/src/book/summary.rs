//! mdBook builds only the chapters `SUMMARY.md` lists and silently skips the rest, so a
//! chapter written but never listed — and the demo it teaches — would vanish from the
//! book. Every `.md` under `book/src` must be in the table of contents.

use std::fs;
use std::path::{Path, PathBuf};

/// Checks that every chapter is listed; returns how many are.
pub fn check(src: &Path, chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path).unwrap_or_default();
    let listed = links(&summary);
    let mut count = 0;
    for chapter in chapters {
        let Ok(relative) = chapter.strip_prefix(src) else {
            continue;
        };
        if relative == Path::new("SUMMARY.md") {
            continue;
        }
        if listed.iter().any(|l| Path::new(l) == relative) {
            count += 1;
        } else {
            problems.push(format!(
                "{}: not in book/src/SUMMARY.md, so mdbook leaves it out of the book",
                chapter.display()
            ));
        }
    }
    for link in &listed {
        if !src.join(link).is_file() {
            problems.push(format!("book/src/SUMMARY.md: {link} does not exist"));
        }
    }
    count
}

/// The targets of `[title](target)` links in the summary.
fn links(summary: &str) -> Vec<String> {
    summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.is_empty())
        .map(|target| target.split('#').next().unwrap_or(target).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::links;

    #[test]
    fn reads_the_chapter_links() {
        let summary = "# Summary\n\n[Intro](introduction.md)\n- [PID](namespaces/pid.md)\n";
        assert_eq!(links(summary), ["introduction.md", "namespaces/pid.md"]);
    }
}
