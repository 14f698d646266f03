//! The book prints one way to run things, and it is the way that works on a fresh Debian,
//! Ubuntu or Fedora machine, for root and for a sudo user: build as yourself
//! (`cargo build`), run as root (`sudo target/debug/demo-NAME`, `sudo vessel …` with
//! `vessel` on `PATH` since the set-up). `sudo cargo …` fails there — sudo resets `PATH` to
//! its `secure_path`, with or without `-E` — so no chapter, no demo hint and no README
//! line may print it.
//!
//! Checked: every `$ ` line of a fenced block and every inline code span of the book's
//! chapters and of the README, and the hint the demos print to a non-root user.

use std::fs;
use std::path::{Path, PathBuf};

use crate::shell;

/// Checks every command; returns how many were looked at.
pub fn check(chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let root = shell::root();
    let demos = demo_names(&root.join("demos/src/bin"));
    let mut files = chapters.to_vec();
    files.push(root.join("README.md"));
    files.push(root.join("demos/src/lib.rs"));
    let mut count = 0;
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_default();
        for command in commands(&text) {
            count += 1;
            for problem in judge(&command, &demos) {
                problems.push(format!(
                    "{}:{}: `{}`: {problem}",
                    file.display(),
                    command.line,
                    command.text
                ));
            }
        }
    }
    count
}

/// One command as the book prints it.
#[derive(Debug)]
struct Command {
    text: String,
    line: usize,
    /// A `$ ` line of a fenced block (not an inline span in the prose).
    typed: bool,
}

/// `$ ` lines of fenced blocks (continuation lines joined) and inline code spans.
fn commands(text: &str) -> Vec<Command> {
    let mut found = Vec::new();
    let mut fenced = false;
    let mut pending: Option<Command> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if let Some(mut command) = pending.take() {
                command.text.push(' ');
                command.text.push_str(trimmed.trim_end_matches('\\').trim());
                if trimmed.ends_with('\\') {
                    pending = Some(command);
                } else {
                    found.push(command);
                }
            } else if let Some(typed) = trimmed.strip_prefix("$ ") {
                let command = Command {
                    text: typed.trim_end_matches('\\').trim().to_owned(),
                    line: index + 1,
                    typed: true,
                };
                if typed.ends_with('\\') {
                    pending = Some(command);
                } else {
                    found.push(command);
                }
            }
            continue;
        }
        for (n, span) in line.split('`').enumerate() {
            if n % 2 == 1 && !span.is_empty() {
                found.push(Command {
                    text: span.to_owned(),
                    line: index + 1,
                    typed: false,
                });
            }
        }
    }
    found
}

/// What is wrong with one command, if anything.
fn judge(command: &Command, demos: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    // A span with `…` names a form in the prose ("never `sudo cargo …`"); it is not run.
    let named_only = !command.typed && command.text.contains('…');
    let without_comment = command.text.split(" # ").next().unwrap_or_default();
    for words in segments(without_comment) {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let sudo = words.first() == Some(&"sudo");
        if sudo && words.get(1) == Some(&"-E") && !named_only {
            problems.push(
                "`sudo -E` does not keep PATH (sudo's secure_path wins): build with `cargo \
                 build`, run `sudo target/debug/NAME`"
                    .to_owned(),
            );
        }
        if sudo && words.contains(&"cargo") && !named_only {
            problems.push(
                "`sudo cargo` fails where sudo resets PATH (Debian: `sudo: cargo: command not \
                 found`): build with `cargo build`, run `sudo target/debug/NAME`"
                    .to_owned(),
            );
        }
        let cargo_run = words.windows(2).any(|w| w == ["cargo", "run"]);
        if cargo_run && words.iter().any(|w| w.starts_with("demo-")) {
            problems.push(
                "a lesson needs root: `cargo build`, then `sudo target/debug/demo-NAME`".to_owned(),
            );
        }
        for (i, word) in words.iter().enumerate() {
            // Run as a command (not linked onto PATH, as the set-up does).
            let run = i == 0 || (i == 1 && sudo);
            if run && word.ends_with("target/debug/vessel") {
                problems.push(
                    "`vessel` is on PATH since the set-up (workshop.md): write `sudo vessel …`"
                        .to_owned(),
                );
            }
            if let Some(demo) = word.strip_prefix("target/debug/") {
                if !demo.starts_with("demo-") {
                    continue;
                }
                if i == 0 || words[i - 1] != "sudo" {
                    problems.push(format!("a lesson needs root: `sudo target/debug/{demo}`"));
                }
                let placeholder = demo.contains('…') || demo.contains('{') || demo == "demo-NAME";
                if !placeholder && !demos.iter().any(|d| d == demo) {
                    problems.push(format!("there is no demos/src/bin/{demo}.rs"));
                }
            }
        }
        let rootless = command.text.contains("rootless");
        if command.typed && !rootless && words.first() == Some(&"vessel") {
            problems.push("vessel needs root here: `sudo vessel …`".to_owned());
        }
    }
    problems
}

/// The simple commands of a shell line: split at `&&`, `||`, `;`, `|`, `$(`, `(` and `)`.
fn segments(line: &str) -> Vec<Vec<String>> {
    let mut text = line.to_owned();
    for separator in ["&&", "||", "$(", ";", "|", "(", ")"] {
        text = text.replace(separator, "\n");
    }
    text.lines()
        .map(|segment| {
            segment
                .split_whitespace()
                .skip_while(|w| w.contains('=') && !w.starts_with('-'))
                .map(|w| w.trim_matches(['"', '\'']).to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect()
}

/// `demo-*` binaries, by file name.
fn demo_names(bin: &Path) -> Vec<String> {
    fs::read_dir(bin)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs")
                .filter(|n| n.starts_with("demo-"))
                .map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(markdown: &str) -> Vec<String> {
        let demos = vec!["demo-uts".to_owned()];
        commands(markdown)
            .iter()
            .flat_map(|c| judge(c, &demos))
            .collect()
    }

    #[test]
    fn the_one_form_passes() {
        let text = "```console\n$ cargo build\n$ sudo target/debug/demo-uts\n\
                    $ ID=$(sudo vessel run -d -- sleep 9) && sudo vessel rm -f \"$ID\"\n\
                    $ vessel run --rootfs DIR -- id   # rootless\n```\n\
                    Never `sudo cargo …`; run `sudo target/debug/demo-…`.";
        assert_eq!(problems(text), Vec::<String>::new());
    }

    #[test]
    fn each_failing_form_is_named() {
        for bad in [
            "```console\n$ sudo -E cargo run --bin demo-uts\n```",
            "`sudo cargo run --bin demo-uts`",
            "`cargo run --bin demo-uts`",
            "```console\n$ target/debug/demo-uts\n```",
            "`sudo target/debug/vessel run -- true`",
            "```console\n$ vessel run -- true\n```",
            "```console\n$ sudo target/debug/demo-nosuch\n```",
            "```console\n$ sudo vessel-conformance \\\n    && sudo -E cargo xtask test\n```",
        ] {
            assert!(!problems(bad).is_empty(), "{bad} passed");
        }
    }
}
