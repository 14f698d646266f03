//! `cargo xtask vm-bench-peers [RUNS]`: `bench-peers` inside the cgroup-v2 VM, where crun
//! runs (it refuses this hybrid host) and vessel's children are born in their cgroup.
//!
//! The guest gets a static **release** vessel (the build a user runs; vm-conformance's
//! is a debug build), a static xtask to drive the runs ([`crate::bench_peers::Place::Guest`]),
//! and, with their shared libraries, crun, runc, youki, GNU time (peak RSS), util-linux's
//! `unshare` (the namespace floor: busybox's has no `-C`) and strace (one start traced
//! for `CLONE_INTO_CGROUP`, see [`crate::clone_trace`]). The table comes back between two
//! marker lines on the console and goes to `target/vm-bench-peers.md`; its times are
//! never to be mixed with the host's (TCG emulates the guest's CPU).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Payload, build, kernel::Kernel, qemu};
use crate::bench_peers::{TABLE_BEGIN, TABLE_END};
use crate::{packages, shell};

/// What PID 1 runs.
const BENCH: &str = include_str!("bench.sh");

/// Rounds per row when none is given: under TCG a start takes 13-30x the host's (40
/// rounds of the 13 rows took 5-6 minutes of VM), and a run should stay near 15 minutes.
const DEFAULT_RUNS: usize = 30;

/// The whole boot and run; raised with `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// The programs copied in besides the static builds: where the guest finds them, and
/// the program name here. youki goes to /usr/local/bin: here it is in cargo's bin
/// directory, below a `$HOME` the guest's init does not have; unshare too, ahead of
/// busybox's on `PATH`.
const PROGRAMS: [(&str, &str); 6] = [
    ("/usr/bin/crun", "crun"),
    ("/usr/sbin/runc", "runc"),
    ("/usr/local/bin/youki", "youki"),
    ("/usr/local/bin/unshare", "unshare"),
    ("/usr/bin/time", "time"),
    ("/usr/bin/strace", "strace"),
];

/// Options of `cargo xtask vm-bench-peers`.
#[derive(Debug)]
pub struct Options {
    pub runs: usize,
    pub vm: super::Options,
}

impl Options {
    /// `[RUNS]` first, then the VM's `--accel` and `--timeout`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let (runs, rest) = match args.first().map(|a| a.parse::<usize>()) {
            Some(Ok(runs)) if runs > 0 => (runs, &args[1..]),
            Some(Ok(_)) => return Err("vm-bench-peers RUNS must be a positive number".into()),
            _ => (DEFAULT_RUNS, args),
        };
        let mut vm = super::Options::parse(rest)?;
        if !rest.iter().any(|a| a == "--timeout") {
            vm.timeout = DEFAULT_TIMEOUT;
        }
        if vm.peers {
            return Err("vm-bench-peers always has the peers: drop --peers".into());
        }
        Ok(Options { runs, vm })
    }
}

/// Builds, boots, runs bench-peers in the guest, writes the table.
pub fn run(options: &Options) -> Result<(), String> {
    packages::install_vm_packages()?;
    packages::install_peer_runtimes();
    let kernel = Kernel::for_vm()?;
    build::check_static(Path::new(super::BUSYBOX))?;
    let vessel = build::cargo_static("build", &["--release", "-p", "vessel", "--bin", "vessel"])?;
    let xtask = build::cargo_static("build", &["-p", "xtask", "--bin", "xtask"])?;
    let mut payload = Payload::running(BENCH);
    payload.add_bins(&vessel);
    payload.add_bins(&xtask);
    for (guest, name) in PROGRAMS {
        match packages::find_program(name) {
            Some(program) => payload.add_program(guest, &program)?,
            None => println!("xtask: {name} is not installed: the VM's table goes without it"),
        }
    }
    payload.files.push((
        "vm/bench-runs".to_owned(),
        options.runs.to_string().into_bytes(),
    ));
    let initrd = build::target_dir().join("initramfs-bench.cpio");
    super::write_initramfs(&initrd, &kernel, &payload)?;
    let accel = match options.vm.accel {
        Some(accel) => accel,
        None => super::choose_accel(&kernel)?,
    };
    println!(
        "xtask: booting {} with {} runs per row, accel {}; time limit {} s",
        kernel.image.display(),
        options.runs,
        accel.name(),
        options.vm.timeout.as_secs()
    );
    let console = qemu::boot(&qemu::Boot {
        kernel: kernel.image.clone(),
        initrd,
        cmdline: super::CMDLINE.to_owned(),
        memory_mib: super::MEMORY_MIB,
        cpus: super::CPUS,
        accel,
        timeout: options.vm.timeout,
        echo: true,
    })?;
    let Some(table) = table_of(&console.lines) else {
        return Err(format!(
            "the VM printed no table ({:?} after {} s); the console's last lines:\n{}",
            console.ending,
            console.took.as_secs(),
            console.tail(40)
        ));
    };
    let heading = format!(
        "bench-peers in the cgroup-v2 VM (accel {}, {} vCPUs, {} MiB; `cargo xtask vm-bench-peers {}`)\n\n",
        accel.name(),
        super::CPUS,
        super::MEMORY_MIB,
        options.runs
    );
    let report: PathBuf = shell::root().join("target/vm-bench-peers.md");
    std::fs::write(&report, format!("{heading}{table}"))
        .map_err(|e| format!("write {}: {e}", report.display()))?;
    println!("xtask: table written to {}", report.display());
    Ok(())
}

/// The lines between the table's markers, or `None` if the guest never finished it.
fn table_of(lines: &[String]) -> Option<String> {
    let begin = lines.iter().position(|l| l.trim_end() == TABLE_BEGIN)?;
    let length = lines[begin + 1..]
        .iter()
        .position(|l| l.trim_end() == TABLE_END)?;
    let mut table = lines[begin + 1..begin + 1 + length]
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    table.push('\n');
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn the_table_is_what_lies_between_the_markers() {
        let console = lines(&[
            "vm: kernel 6.12",
            TABLE_BEGIN,
            "| runtime | median |\r",
            "| crun | 9 ms |",
            TABLE_END,
            "VESSEL-VM-EXIT=0",
        ]);
        assert_eq!(
            table_of(&console).unwrap(),
            "| runtime | median |\n| crun | 9 ms |\n"
        );
        assert_eq!(table_of(&console[..4]), None, "no end marker: no table");
        assert_eq!(table_of(&console[2..]), None, "no begin marker: no table");
    }

    #[test]
    fn runs_come_first_and_the_vm_options_after() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = Options::parse(&args(&["7", "--accel", "tcg"])).unwrap();
        assert_eq!(options.runs, 7);
        assert_eq!(options.vm.accel, Some(qemu::Accel::Tcg));
        assert_eq!(options.vm.timeout, DEFAULT_TIMEOUT);
        let defaults = Options::parse(&[]).unwrap();
        assert_eq!(defaults.runs, DEFAULT_RUNS);
        assert!(Options::parse(&args(&["0"])).is_err());
        assert!(Options::parse(&args(&["--peers"])).is_err());
    }
}
