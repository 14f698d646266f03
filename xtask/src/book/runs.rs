//! Real runs beside the redacted snapshots. A snapshot hides every number that changes
//! from run to run, and those are often the numbers a lesson talks about; so each lesson
//! page also shows one run as it really printed, recorded by a tool, never pasted:
//!
//! * `cargo xtask book-runs` (as root) builds the lessons, runs each one, and writes its
//!   output to `runs/demo-NAME.txt` beside the chapter that includes its snapshot, under a
//!   header naming the kernel and the cgroup mode;
//! * `cargo xtask vm-conformance` keeps the output of the cgroup lessons it runs on
//!   cgroup v2 in `target/vm/lesson-runs/`, and `book-runs` copies them next to the host's
//!   run as `runs/demo-NAME.v2.txt`.
//!
//! `cargo xtask book-check` then checks that every chapter with a snapshot includes its
//! run (and the cgroup lessons their v2 run), and that each file is the tool's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::shell;

/// The lessons whose subject is a cgroup: their pages also show a run on cgroup v2.
pub const CGROUP_LESSONS: [&str; 4] = ["demo-oom", "demo-cpu-quota", "demo-pids", "demo-cgroupns"];

/// The header's second line starts with this, so a hand-written file is told apart.
const RECORDED_BY: &str = "(recorded by `cargo xtask book-runs`";

/// Where `vm-conformance` leaves the cgroup lessons' output.
fn vm_runs_dir() -> PathBuf {
    shell::root().join("target/vm/lesson-runs")
}

/// `cargo xtask book-runs`: runs every lesson that a chapter shows and records its output.
pub fn record() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("book-runs runs every lesson, which needs root: run it as root".into());
    }
    shell::run(
        &shell::cargo(),
        &["build", "--quiet", "-p", "vessel-demos", "--bins"],
    )?;
    let src = shell::root().join("book/src");
    let host = format!("Linux {}, cgroup {}", kernel_release(), cgroup_mode());
    let mut written = 0;
    for (demo, chapter) in lessons(&src) {
        let runs = chapter.parent().unwrap_or(&src).join("runs");
        fs::create_dir_all(&runs).map_err(|e| format!("create {}: {e}", runs.display()))?;
        let binary = shell::root().join("target/debug").join(&demo);
        println!("xtask: book-runs: {demo}");
        let out = Command::new(&binary)
            .current_dir(shell::root())
            .output()
            .map_err(|e| format!("run {}: {e}", binary.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{demo} failed ({}), so its run is not recorded:\n{stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        write(&runs.join(format!("{demo}.txt")), &demo, &host, &stdout)?;
        written += 1;
        let from_vm = vm_runs_dir().join(format!("{demo}.txt"));
        if let Ok(text) = fs::read_to_string(&from_vm) {
            let (kernel, transcript) = text.split_once('\n').unwrap_or(("", &text));
            let vm = format!("{kernel}, cgroup v2, in the vm-conformance VM");
            write(&runs.join(format!("{demo}.v2.txt")), &demo, &vm, transcript)?;
            written += 1;
        }
    }
    println!("xtask: book-runs: {written} runs recorded ({host})");
    Ok(())
}

/// Writes one run under its header.
fn write(path: &Path, demo: &str, machine: &str, transcript: &str) -> Result<(), String> {
    let date = shell::output("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let text = format!(
        "$ sudo target/debug/{demo}\n{RECORDED_BY} on {machine}, {})\n\n{}\n",
        date.trim(),
        transcript.trim_end()
    );
    fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Called by `vm-conformance` with the guest's console: keeps each cgroup lesson's output
/// in `target/vm/lesson-runs/`, for `book-runs` to copy into the book.
pub fn save_vm_lessons(console: &[String]) {
    let dir = vm_runs_dir();
    for (demo, text) in vm_lessons(console) {
        let path = dir.join(format!("{demo}.txt"));
        if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(&path, text)) {
            println!(
                "xtask: could not keep {demo}'s v2 run in {}: {e}",
                path.display()
            );
        }
    }
}

/// Each cgroup lesson's output in the console (the lines between `vm: $ demo-X` and its
/// `ok - lesson demo-X` line), first line the guest's kernel. A failed lesson is left out.
fn vm_lessons(console: &[String]) -> Vec<(&'static str, String)> {
    let kernel = console
        .iter()
        .find_map(|l| l.strip_prefix("vm: kernel "))
        .and_then(|l| l.split(',').next())
        .map_or_else(|| "Linux ?".to_owned(), |k| format!("Linux {k}"));
    let mut found = Vec::new();
    for demo in CGROUP_LESSONS {
        let start = format!("vm: $ {demo}");
        let Some(first) = console.iter().position(|l| l.trim_end() == start) else {
            continue;
        };
        let rest = &console[first + 1..];
        let verdict = |l: &String| l.starts_with("ok - ") || l.starts_with("not ok - ");
        let Some(end) = rest.iter().position(verdict) else {
            continue;
        };
        if !rest[end].starts_with(&format!("ok - lesson {demo}")) {
            continue;
        }
        let lines: Vec<&str> = rest[..end]
            .iter()
            .map(|l| l.trim_end_matches('\r'))
            .collect();
        found.push((demo, format!("{kernel}\n{}\n", lines.join("\n"))));
    }
    found
}

/// Each lesson a chapter shows, with that chapter: from the snapshot includes.
fn lessons(src: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for chapter in super::includes::markdown_files(src) {
        let text = fs::read_to_string(&chapter).unwrap_or_default();
        for demo in snapshot_demos(&text) {
            found.push((demo, chapter.clone()));
        }
    }
    found
}

/// The `demo-*` names whose snapshot `text` includes.
fn snapshot_demos(text: &str) -> Vec<String> {
    text.split("demos/tests/snapshots/")
        .skip(1)
        .filter_map(|rest| rest.split_once(".snap").map(|(name, _)| name.to_owned()))
        .filter(|name| name.starts_with("demo-"))
        .collect()
}

/// Book check: every chapter that includes a lesson's snapshot includes its recorded run
/// (the cgroup lessons their v2 run too), and every run file is the tool's output.
pub fn check(chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let mut count = 0;
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        let dir = chapter.parent().unwrap_or(Path::new("."));
        for demo in snapshot_demos(&text) {
            let mut wanted = vec![format!("runs/{demo}.txt")];
            if CGROUP_LESSONS.contains(&demo.as_str()) {
                wanted.push(format!("runs/{demo}.v2.txt"));
            }
            for run in wanted {
                if !text.contains(&format!("{{{{#include {run}}}}}")) {
                    problems.push(format!(
                        "{}: shows {demo}'s snapshot but not its real run: add \
                         {{{{#include {run}}}}} (recorded by `cargo xtask book-runs`)",
                        chapter.display()
                    ));
                    continue;
                }
                let file = fs::read_to_string(dir.join(&run)).unwrap_or_default();
                let mut lines = file.lines();
                let first = lines.next().unwrap_or_default();
                let second = lines.next().unwrap_or_default();
                if first != format!("$ sudo target/debug/{demo}")
                    || !second.starts_with(RECORDED_BY)
                {
                    problems.push(format!(
                        "{}: not written by `cargo xtask book-runs` (its header is missing); \
                         record it again",
                        dir.join(&run).display()
                    ));
                }
                count += 1;
            }
        }
    }
    count
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

/// v1, hybrid or v2, as the lessons see it.
fn cgroup_mode() -> &'static str {
    let fs_type = shell::output("stat", &["-f", "-c", "%T", "/sys/fs/cgroup"]).unwrap_or_default();
    if fs_type.trim() == "cgroup2fs" {
        "v2"
    } else if Path::new("/sys/fs/cgroup/unified").is_dir() {
        "v1 (hybrid)"
    } else {
        "v1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_lesson_is_cut_from_the_console_between_its_markers() {
        let lines: Vec<String> = [
            "vm: kernel 6.12.95+deb12-amd64, 2 CPUs, 1000 MiB",
            "vm: $ demo-pids",
            "demo-pids: a fork bomb that stops",
            "  ✔ it stopped",
            "ok - lesson demo-pids: every claim holds on cgroup v2",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            vm_lessons(&lines),
            vec![(
                "demo-pids",
                "Linux 6.12.95+deb12-amd64\ndemo-pids: a fork bomb that stops\n  ✔ it stopped\n"
                    .to_owned()
            )]
        );
    }
}
