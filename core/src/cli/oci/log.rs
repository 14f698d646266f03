//! `--log FILE --log-format text|json`: where conmon and containerd's shim read a
//! runtime's errors. In JSON each error is one line `{"level":"error","msg":…,"time":…}`,
//! as runc writes it; they show the `msg` to the user. stderr gets the message too.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The log format runc's `--log-format` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// `time=… level=error msg="…"` lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// Appends `message` at `level` to `file` in `format`; a log that cannot be written is
/// not worth failing the command for (stderr has the message).
pub fn append(file: &Path, format: LogFormat, level: &str, message: &str) {
    let time = crate::state::now_rfc3339();
    let line = match format {
        LogFormat::Json => {
            serde_json::json!({"level": level, "msg": message, "time": time}).to_string()
        }
        LogFormat::Text => format!("time={time:?} level={level} msg={message:?}"),
    };
    if let Ok(mut log) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(log, "{line}");
    }
}

/// The global logging options.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `--log`.
    pub file: Option<PathBuf>,
    /// `--log-format`.
    pub format: LogFormat,
    /// `--debug`: also log each command as it starts.
    pub debug: bool,
}

impl LogOptions {
    /// Logs an error, when `--log` was given.
    pub fn error(&self, message: &str) {
        if let Some(file) = &self.file {
            append(file, self.format, "error", message);
        }
    }

    /// Logs the command line at debug level, with `--debug`.
    pub fn command(&self, args: &[String]) {
        if let (Some(file), true) = (&self.file, self.debug) {
            append(
                file,
                self.format,
                "debug",
                &format!("vessel {}", args.join(" ")),
            );
        }
    }
}
