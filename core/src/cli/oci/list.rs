//! `vessel list`: the containers made by `vessel create`, as runc lists them.

use clap::Args;

use crate::error::Result;
use crate::oci::state::{OciStore, document};
use crate::state::Root;

/// Arguments of `vessel list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// `table` or `json` (an array of state documents).
    #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Only the ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Prints the containers.
pub fn list(root: &Root, args: ListArgs) -> Result<i32> {
    let store = OciStore::open_in(root);
    let records = store.list();
    if args.quiet {
        for record in &records {
            crate::cli::output::outln!("{}", record.id);
        }
        return Ok(0);
    }
    if args.format == "json" {
        let documents: Vec<_> = records
            .iter()
            .map(|r| document(r, store.status(r)))
            .collect();
        let text = serde_json::to_string(&documents).expect("state documents serialize");
        crate::cli::output::outln!("{text}");
        return Ok(0);
    }
    crate::cli::output::outln!(
        "{:<24} {:<8} {:<8} {:<40} CREATED",
        "ID",
        "PID",
        "STATUS",
        "BUNDLE"
    );
    for record in &records {
        let document = document(record, store.status(record));
        crate::cli::output::outln!(
            "{:<24} {:<8} {:<8} {:<40} {}",
            record.id,
            document.pid,
            document.status.to_string(),
            record.bundle().display(),
            record.created
        );
    }
    Ok(0)
}
