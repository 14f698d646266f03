//! `cargo xtask`: vessel's project automation.
//!
//! * `cargo xtask test` — the one test command: installs what the tests need, then runs
//!   rustfmt, clippy, every test, the book build and its checks, and a leak check.

mod bench_compare;
mod bench_images;
mod bench_isolation;
mod bench_launch;
mod bench_peers;
mod book;
mod bundle;
mod clone_trace;
mod conformance;
mod criterion_output;
mod leaks;
mod own_cgroups;
mod packages;
mod peak_rss;
mod peer_cgroups;
mod shell;
mod test;
mod vm;
mod wait;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test          install what the tests need, then fmt, clippy, all tests, the book, leak checks
  install-deps  only install the system packages and tools the tests need
  book-check    check the book: includes, demo chapters, diagrams, mdbook build + test, links
  book-po       refresh the book's translations after an English change: re-extract
                book/po/messages.pot, msgmerge it into book/po/*.po, fill code-only messages
  book-runs     (as root) run every lesson and record its real output for the book
                (book/src/**/runs/demo-*.txt; the cgroup lessons' v2 runs come from
                the last vm-conformance)
  conformance [--peers] [SUITE ARGS]
                build the conformance suite statically and run it on this host
                (--peers: against runc, crun and youki too, installing them if missing)
  bench-peers [RUNS]
                time vessel, runc, crun and youki on one OCI bundle, interleaved, and
                vessel's CLI per isolation level (none, default, bridge)
  bench-images [RUNS]
                vessel load and pull throughput against skopeo copy of the same image
  bench-compare BASE_REV
                run the start-up benchmarks of BASE_REV and HEAD interleaved; print ratios
  vm-conformance [--accel kvm|tcg|auto] [--timeout SECONDS] [--peers]
                boot Debian's kernel in qemu with cgroup v2 only and run vessel's cgroup checks,
                lessons and tests and the conformance suite there (--peers: crun and runc too)
  vm-bench-peers [RUNS] [--accel kvm|tcg|auto] [--timeout SECONDS]
                bench-peers inside that VM (a static release vessel, crun, runc, youki),
                with one start traced for CLONE_INTO_CGROUP; table in target/vm-bench-peers.md";

/// `COMMAND [RUNS]`: the optional positive number of runs after the command.
fn runs_arg(args: &[String], command: &str) -> Result<Option<usize>, String> {
    match args.get(1).map(|n| n.parse::<usize>()) {
        None => Ok(None),
        Some(Ok(runs)) if runs > 0 => Ok(Some(runs)),
        Some(_) => Err(format!("{command} RUNS must be a positive number of runs")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(),
        Some("install-deps") => packages::install_all().and_then(|()| vm::install_deps()),
        Some("book-check") => book::check(),
        Some("book-po") => book::translations::refresh(),
        Some("book-runs") => book::runs::record(),
        Some("conformance") => conformance::run(&args[1..]),
        Some("bench-peers") => runs_arg(&args, "bench-peers")
            .and_then(|r| bench_peers::run(r, &bench_peers::Place::Host)),
        // What the VM's init runs for vm-bench-peers (not for use on a host).
        Some("bench-peers-in-vm") => runs_arg(&args, "bench-peers-in-vm").and_then(|r| {
            let vessel = std::path::PathBuf::from(vm::GUEST_VESSEL);
            bench_peers::run(r, &bench_peers::Place::Guest { vessel })
        }),
        Some("vm-bench-peers") => {
            vm::bench::Options::parse(&args[1..]).and_then(|o| vm::bench::run(&o))
        }
        Some("bench-images") => match args.get(1).map(|n| n.parse::<usize>()) {
            None => bench_images::run(None),
            Some(Ok(runs)) if runs > 0 => bench_images::run(Some(runs)),
            Some(_) => Err("bench-images RUNS must be a positive number of runs".into()),
        },
        Some("bench-compare") => match args.get(1) {
            Some(base) => bench_compare::run(base),
            None => Err(
                "bench-compare needs a base revision, e.g. `cargo xtask bench-compare HEAD~1`"
                    .into(),
            ),
        },
        Some("vm-conformance") => vm::Options::parse(&args[1..]).and_then(|o| vm::run(&o)),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
