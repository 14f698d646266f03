//! Running a lesson binary and turning its output into a stable transcript.
//!
//! A transcript is the lesson's real stdout with the values that change from run to run
//! (pids, namespace inodes, timings, ids, the host's name, scratch paths) replaced by
//! placeholders. The book includes the resulting insta snapshots, so the book shows
//! exactly what the code prints.

use std::process::Command;

/// Namespace inode numbers, as readlink /proc/PID/ns/X shows them (`uts:[4026531838]`)
/// or bare. They are not redacted to one `[INODE]`: the point of a lesson is often that two
/// of them differ (the container's namespace is not the host's), so each distinct number
/// becomes its own letter in order of appearance — `INODE-A`, `INODE-B` — and equal
/// numbers keep equal letters.
const NAMESPACE_INODE: &str = r"\b40\d{8}\b";

/// Redactions every lesson needs: `(regex, replacement)`.
const COMMON_FILTERS: [(&str, &str); 4] = [
    // durations
    (r"\b\d+(\.\d+)? ?(ns|µs|us|ms|s)\b", "[TIME]"),
    // 12-hex-digit container ids (default hostnames)
    (r"\b[0-9a-f]{12}\b", "[ID]"),
    // a lesson's scratch directory
    (r"/tmp/vessel-[a-z0-9-]+-\d+", "[SCRATCH]"),
    // host pids, printed by lessons as "host pid N"
    (r"host pid \d+", "host pid [PID]"),
];

/// Runs the lesson `bin` (a path from `env!("CARGO_BIN_EXE_…")`), asserts that every
/// claim held (exit 0), and returns its stdout with volatile values redacted by the
/// common filters plus `extra`.
pub fn transcript(bin: &str, extra: &[(&str, &str)]) -> String {
    let output = Command::new(bin).output().expect("run the lesson binary");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{bin} failed ({}):\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !stdout.contains('✘'),
        "a claim failed but the lesson exited 0:\n{stdout}"
    );
    redact(&stdout, extra)
}

/// Applies the filters: the host's own hostname first, then the regexes.
pub fn redact(text: &str, extra: &[(&str, &str)]) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let mut text = match host.trim() {
        "" => text.to_owned(),
        host => text.replace(&format!("\"{host}\""), "\"[HOST]\""),
    };
    for (pattern, replacement) in extra {
        let re = regex::Regex::new(pattern).expect("valid filter regex");
        text = re.replace_all(&text, *replacement).into_owned();
    }
    text = letter_inodes(&text);
    for (pattern, replacement) in COMMON_FILTERS {
        let re = regex::Regex::new(pattern).expect("valid filter regex");
        text = re.replace_all(&text, replacement).into_owned();
    }
    text
}

/// Replaces each distinct namespace inode by `INODE-A`, `INODE-B`, … in order of first
/// appearance, so the transcript still shows which of them are equal.
fn letter_inodes(text: &str) -> String {
    let re = regex::Regex::new(NAMESPACE_INODE).expect("valid inode regex");
    let mut seen: Vec<String> = Vec::new();
    re.replace_all(text, |found: &regex::Captures| {
        let inode = found[0].to_owned();
        let index = seen.iter().position(|s| *s == inode).unwrap_or_else(|| {
            seen.push(inode);
            seen.len() - 1
        });
        let letter = char::from(b'A' + u8::try_from(index % 26).unwrap_or(0));
        format!("INODE-{letter}")
    })
    .into_owned()
}

#[test]
fn distinct_inodes_keep_distinct_letters() {
    let text = "uts:[4026531838] uts:[4026532301] again 4026531838";
    assert_eq!(
        letter_inodes(text),
        "uts:[INODE-A] uts:[INODE-B] again INODE-A"
    );
}

/// Snapshot settings shared by every transcript test: no expression in the header, so
/// the book can include a snapshot from a fixed line (line 4 onward is the transcript).
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings
}
