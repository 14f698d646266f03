//! Running a lesson binary and turning its output into a stable transcript.
//!
//! A transcript is the lesson's real stdout with the values that change from run to run
//! (pids, namespace inodes, timings, ids, the host's name, scratch paths) replaced by
//! placeholders. The book includes the resulting insta snapshots, so the book shows
//! exactly what the code prints.

use std::process::Command;

/// Redactions every lesson needs: `(regex, replacement)`.
const COMMON_FILTERS: [(&str, &str); 6] = [
    // namespace inodes as shown by readlink /proc/PID/ns/X: uts:[4026531838]
    (r"\[40\d{8}\]", "[INODE]"),
    // bare namespace inode numbers
    (r"\b40\d{8}\b", "[INODE]"),
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
    for (pattern, replacement) in extra.iter().chain(COMMON_FILTERS.iter()) {
        let re = regex::Regex::new(pattern).expect("valid filter regex");
        text = re.replace_all(&text, *replacement).into_owned();
    }
    text
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
