//! A detached container's log: one JSON object per line of output, as docker's
//! `json-file` driver writes it:
//!
//! ```text
//! {"time":"2026-11-22T18:30:00.123Z","stream":"stdout","log":"tick\n"}
//! ```
//!
//! The shim appends, `vessel logs` reads; a line is written whole with one `write`, so a
//! reader never sees half of one. Three additions to docker's format: a line longer
//! than 16 KiB is split into entries (docker does that too); output that is not UTF-8
//! also carries its exact bytes in hex (`"raw"`), so binary output survives; and the
//! last entry records the exit (`{"time":…,"exit_code":0,"oom_killed":false}`), for
//! `vessel wait` on a container whose record is gone.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::state::now_rfc3339;

/// Which descriptor a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// fd 1.
    Stdout,
    /// fd 2.
    Stderr,
}

/// One line of output and when the shim read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// RFC 3339, UTC.
    pub time: String,
    /// stdout or stderr.
    pub stream: Stream,
    /// The text, with its newline if it had one (invalid UTF-8 replaced by U+FFFD, as
    /// docker's `json-file` does).
    pub log: String,
    /// The exact bytes, in hex, when they are not UTF-8 (binary output): `vessel logs`
    /// prints these, so what a container wrote comes back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl LogLine {
    /// The bytes the container wrote.
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self.raw.as_deref().and_then(from_hex) {
            Some(bytes) => Cow::Owned(bytes),
            None => Cow::Borrowed(self.log.as_bytes()),
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The entry the shim appends once the container has exited: how it ended. `vessel
/// logs` skips it (it is no line of output); `vessel wait` reads it for a `--rm`
/// container, whose record is gone by then, from the log it opened before the exit
/// (an open file outlives its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitEntry {
    /// When the shim reaped the container (RFC 3339, UTC).
    pub time: String,
    /// 128 + n for signal n.
    pub exit_code: i32,
    /// The OOM killer struck in its cgroup.
    pub oom_killed: bool,
}

/// The most bytes of output one log entry holds (docker's 16 KiB).
pub const MAX_ENTRY: usize = 16 * 1024;

/// Where to cut `bytes` at most `max` bytes in: before a UTF-8 sequence that would be
/// cut in two (so each piece decodes on its own), unless there is no such start.
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let is_continuation = |b: u8| b & 0b1100_0000 == 0b1000_0000;
    (max.saturating_sub(3)..=max)
        .rev()
        .find(|&i| i == bytes.len() || (i > 0 && !is_continuation(bytes[i])))
        .unwrap_or(max)
}

/// Appends lines to a log file, keeping a partial line per stream until its newline.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    partial: [Vec<u8>; 2],
}

impl LogWriter {
    /// Creates (or appends to) the log at `path`, readable only by its owner.
    pub fn create(path: &Path) -> io::Result<LogWriter> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(LogWriter {
            file,
            partial: [Vec::new(), Vec::new()],
        })
    }

    /// Logs `bytes` read from `stream`: every complete line now, the rest once its
    /// newline comes (or at [`LogWriter::finish`]). A line longer than
    /// [`MAX_ENTRY`] is logged in pieces of at most that size, as docker does, so a
    /// container that never writes a newline cannot make the shim's memory grow
    /// without bound; `vessel logs` prints the pieces back to back.
    pub fn write(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        let index = stream as usize;
        self.partial[index].extend_from_slice(bytes);
        while let Some(end) = self.partial[index].iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial[index].drain(..=end).collect();
            self.emit_in_pieces(stream, &line)?;
        }
        while self.partial[index].len() >= MAX_ENTRY {
            let end = char_boundary(&self.partial[index], MAX_ENTRY);
            let piece: Vec<u8> = self.partial[index].drain(..end).collect();
            self.emit(stream, &piece)?;
        }
        Ok(())
    }

    fn emit_in_pieces(&mut self, stream: Stream, mut line: &[u8]) -> io::Result<()> {
        while line.len() > MAX_ENTRY {
            let (piece, rest) = line.split_at(char_boundary(line, MAX_ENTRY));
            self.emit(stream, piece)?;
            line = rest;
        }
        self.emit(stream, line)
    }

    /// Logs what is left of unfinished lines: the output ended without a newline.
    pub fn finish(&mut self) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.partial[stream as usize]);
            if !rest.is_empty() {
                self.emit_in_pieces(stream, &rest)?;
            }
        }
        Ok(())
    }

    /// Appends the container's [`ExitEntry`], after any unfinished line.
    pub fn exited(&mut self, exit_code: i32, oom_killed: bool) -> io::Result<()> {
        self.finish()?;
        let entry = ExitEntry {
            time: now_rfc3339(),
            exit_code,
            oom_killed,
        };
        let mut text = serde_json::to_string(&entry).map_err(io::Error::other)?;
        text.push('\n');
        self.file.write_all(text.as_bytes())
    }

    fn emit(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        let raw = matches!(text, Cow::Owned(_)).then(|| to_hex(line));
        let entry = LogLine {
            time: now_rfc3339(),
            stream,
            log: text.into_owned(),
            raw,
        };
        let mut text = serde_json::to_string(&entry).map_err(io::Error::other)?;
        text.push('\n');
        // One write per line on an O_APPEND file: readers see whole lines only.
        self.file.write_all(text.as_bytes())
    }
}

/// Reads the complete lines from `reader`, skipping any that do not parse (there are
/// none unless someone edited the file). Returns how many bytes it consumed, so a
/// follower can resume after the last complete line.
pub fn read_lines(reader: impl io::Read) -> io::Result<(Vec<LogLine>, u64)> {
    let mut reader = BufReader::new(reader);
    let mut lines = Vec::new();
    let mut consumed = 0u64;
    let mut text = String::new();
    loop {
        text.clear();
        let n = reader.read_line(&mut text)?;
        if n == 0 || !text.ends_with('\n') {
            return Ok((lines, consumed));
        }
        consumed += n as u64;
        if let Ok(line) = serde_json::from_str(&text) {
            lines.push(line);
        }
    }
}

/// The [`ExitEntry`] in a log, if the shim wrote one.
pub fn read_exit(reader: impl io::Read) -> io::Result<Option<ExitEntry>> {
    for line in BufReader::new(reader).lines() {
        if let Ok(exit) = serde_json::from_str::<ExitEntry>(&line?) {
            return Ok(Some(exit));
        }
    }
    Ok(None)
}

/// The last `n` lines of `lines` (all of them for `None`).
pub fn tail(lines: Vec<LogLine>, n: Option<usize>) -> Vec<LogLine> {
    match n {
        Some(n) if n < lines.len() => lines[lines.len() - n..].to_vec(),
        _ => lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_per_stream_and_partial_lines_wait_for_their_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = LogWriter::create(&path).unwrap();
        log.write(Stream::Stdout, b"ti").unwrap();
        log.write(Stream::Stderr, b"oops\n").unwrap();
        log.write(Stream::Stdout, b"ck\ntock\nno newline").unwrap();
        log.exited(3, false).unwrap();
        let (lines, consumed) = read_lines(File::open(&path).unwrap()).unwrap();
        let texts: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.log.as_str())).collect();
        assert_eq!(
            texts,
            [
                (Stream::Stderr, "oops\n"),
                (Stream::Stdout, "tick\n"),
                (Stream::Stdout, "tock\n"),
                (Stream::Stdout, "no newline"),
            ]
        );
        assert_eq!(consumed, std::fs::metadata(&path).unwrap().len());
        let last = tail(lines, Some(1));
        assert_eq!(last[0].log, "no newline");
        // The exit is no line of output, but it is there for `wait`.
        let exit = read_exit(File::open(&path).unwrap()).unwrap().unwrap();
        assert_eq!((exit.exit_code, exit.oom_killed), (3, false));
    }

    #[test]
    fn a_line_longer_than_an_entry_is_logged_in_pieces_that_keep_every_character() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = LogWriter::create(&path).unwrap();
        // 'é' is two bytes: with the odd start, a cut at MAX_ENTRY would split one.
        let text = format!("a{}\n", "é".repeat(MAX_ENTRY));
        for chunk in text.as_bytes().chunks(1000) {
            log.write(Stream::Stdout, chunk).unwrap();
        }
        assert!(log.partial[0].is_empty());
        let (lines, _) = read_lines(File::open(&path).unwrap()).unwrap();
        assert!(lines.len() > 2 && lines.iter().all(|l| l.log.len() <= MAX_ENTRY));
        let joined: String = lines.iter().map(|l| l.log.as_str()).collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn binary_output_comes_back_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = LogWriter::create(&path).unwrap();
        let binary: Vec<u8> = (0..=255u8).cycle().take(3 * MAX_ENTRY + 7).collect();
        log.write(Stream::Stdout, &binary).unwrap();
        log.write(Stream::Stderr, "text é\n".as_bytes()).unwrap();
        log.finish().unwrap();
        let (lines, _) = read_lines(File::open(&path).unwrap()).unwrap();
        let (out, err): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.stream == Stream::Stdout);
        let back: Vec<u8> = out.iter().flat_map(|l| l.bytes().into_owned()).collect();
        assert_eq!(back, binary);
        // Text stays plain text, readable by anything that reads docker's format.
        assert_eq!((err[0].log.as_str(), &err[0].raw), ("text é\n", &None));
    }

    #[test]
    fn a_half_written_line_is_not_read_yet() {
        let text = "{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"a\\n\"}\n{\"time\":";
        let (lines, consumed) = read_lines(text.as_bytes()).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(consumed as usize, text.find('\n').unwrap() + 1);
    }
}
