//! `vessel ps`: the containers and what the kernel says of them now.

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::output::errln;
use crate::error::Result;
use crate::state::Root;
use crate::state::{Observed, Record, StateDir};

/// Arguments of `vessel ps`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show every container, not only running ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Print a table or JSON (an array of records, each with its observed status).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the ids, one a line (`vessel rm -f $(vessel ps -aq)`).
    #[arg(short = 'q', long, conflicts_with = "format")]
    pub quiet: bool,
    /// A container made by `vessel create`: list its processes instead (runc's `ps ID`).
    pub container: Option<String>,
}

/// How `ps` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
}

/// Lists the containers.
pub fn ps(root: &Root, args: PsArgs) -> Result<i32> {
    if let Some(id) = &args.container {
        return super::oci::ps::ps(root, id, args.format == Format::Json);
    }
    let dir = StateDir::open_in(root)?;
    crate::lifecycle::reap_never_started(&dir);
    for (id, error) in dir.unreadable()? {
        errln!(
            "vessel: container {id} is left out: {} (`vessel rm {id}` removes its record)",
            super::error_chain(&error)
        );
    }
    let mut records = dir.list()?;
    records.retain(|r| args.all || matches!(r.observed(), Observed::Running | Observed::Created));
    records.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    let text = match args.format {
        _ if args.quiet => records.iter().map(|r| format!("{}\n", r.id)).collect(),
        Format::Json => {
            let values: Vec<Inspected> = records.iter().map(Inspected::of).collect();
            serde_json::to_string_pretty(&values).expect("records serialize") + "\n"
        }
        Format::Table => table(&records),
    };
    super::output::out(&text);
    Ok(0)
}

/// A record as `ps --format json` and `inspect` print it: with `observed`, its status
/// checked against the kernel.
#[derive(Debug, Serialize)]
pub(super) struct Inspected<'a> {
    #[serde(flatten)]
    record: &'a Record,
    observed: String,
}

impl Inspected<'_> {
    pub(super) fn of(record: &Record) -> Inspected<'_> {
        Inspected {
            record,
            observed: record.observed_status(),
        }
    }
}

fn table(records: &[Record]) -> String {
    let mut out = format!(
        "{:<12}  {:<16}  {:<10}  {:<24}  {:<8}  {}\n",
        "CONTAINER ID", "NAME", "IMAGE", "COMMAND", "PID", "STATUS"
    );
    for r in records {
        // Looked at once: a container that exits meanwhile shows no pid *and* exited.
        let observed = r.observed();
        let pid = match observed {
            Observed::Running => r.pid.to_string(),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "{:<12}  {:<16}  {:<10}  {:<24}  {:<8}  {}\n",
            r.id,
            r.name.as_deref().unwrap_or("-"),
            r.image.as_deref().unwrap_or("(rootfs)"),
            shorten(&shell_words(&r.command), 24),
            pid,
            r.describe(observed)
        ));
    }
    out
}

/// The command as one would type it: an argument with spaces or shell characters in
/// single quotes, so `sh -c 'echo hi; sleep 1'` does not read as three commands.
fn shell_words(argv: &[String]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    argv.iter()
        .map(|arg| {
            if !arg.is_empty() && arg.chars().all(plain) {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let cut: String = text.chars().take(width - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_reads_as_it_would_be_typed() {
        let argv: Vec<String> = ["sh", "-c", "echo 'hi'; sleep 1", "", "/bin/x=1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            shell_words(&argv),
            r"sh -c 'echo '\''hi'\''; sleep 1' '' /bin/x=1"
        );
    }
}
