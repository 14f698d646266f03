//! `cargo xtask vm-conformance`: vessel on a real cgroup-v2 kernel, in a throw-away VM.
//!
//! This machine (like many CI hosts) is cgroup v1/hybrid, so vessel's v2 code would
//! otherwise only ever meet a fake tree. The VM is the smallest thing that boots a real
//! v2 kernel: Debian's `linux-image-amd64` under `qemu-system-x86_64`, no disk, no
//! network, and an initramfs holding a static busybox, vessel's binaries (linked
//! statically, see [`build`]), the kernel modules the checks need, and two scripts:
//! `init.sh` (PID 1: mounts, cgroup v2 with controllers delegated, a leaf cgroup for
//! itself) and what it runs as `/vm/main.sh`: `checks.sh` here, or `bench.sh` for
//! `cargo xtask vm-bench-peers` ([`bench`]). The guest prints `VESSEL-VM-EXIT=<code>`
//! and powers off; the host passes the console through and returns that code.

pub mod bench;
pub(crate) mod build;
mod cpio;
mod kernel;
mod qemu;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::packages;
pub use build::check_static;
use kernel::Kernel;
use qemu::{Accel, Boot, Console, Ending};

/// PID 1 of the guest.
const INIT: &str = include_str!("init.sh");
/// What PID 1 runs for vm-conformance.
const CHECKS: &str = include_str!("checks.sh");

/// Where the guest finds vessel's CLI (built bins go to `/usr/local/bin`).
pub const GUEST_VESSEL: &str = "/usr/local/bin/vessel";

/// The kernel command line: the serial console, cgroup v2 only (no v1 hierarchy can
/// take a controller), quiet enough that kernel messages do not bury the checks'
/// output, and a panic powers off at once instead of hanging until the timeout.
const CMDLINE: &str = "console=ttyS0 cgroup_no_v1=all loglevel=3 panic=-1 rdinit=/init";

/// Guest size: room for the unpacked initramfs (copied once into a tmpfs) plus the
/// containers; two vCPUs so CPU quotas below one CPU and above are both meaningful.
const MEMORY_MIB: u32 = 2048;
const CPUS: u32 = 2;

/// Default time limit for the whole boot-and-check: TCG runs the guest ~10-50x slower
/// than the host; CI has 90 minutes in all and the VM must stay well under 15.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(12 * 60);

/// How long a KVM trial boot may take before KVM counts as not working (nested KVM
/// hangs on some hosts instead of failing); a working KVM boots the trial guest in 1-3 s.
const KVM_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The static busybox the guest uses as init, shell and every tool.
const BUSYBOX: &str = "/bin/busybox";

/// Options of `cargo xtask vm-conformance`.
#[derive(Debug)]
pub struct Options {
    /// `None`: KVM if a trial boot works, TCG otherwise.
    pub accel: Option<Accel>,
    pub timeout: Duration,
    /// Also run the suite against crun and runc in the guest (for comparison only).
    pub peers: bool,
}

pub const USAGE: &str = "vm-conformance [--accel kvm|tcg|auto] [--timeout SECONDS] [--peers]";

/// The peer runtimes `--peers` puts in the guest, with their shared libraries.
const PEERS: [&str; 2] = ["crun", "runc"];

impl Default for Options {
    /// KVM if it works, the default time limit.
    fn default() -> Options {
        Options {
            accel: None,
            timeout: DEFAULT_TIMEOUT,
            peers: false,
        }
    }
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{arg} needs a value (usage: cargo xtask {USAGE})"))
            };
            match arg.as_str() {
                "--accel" => {
                    options.accel = match value()?.as_str() {
                        "kvm" => Some(Accel::Kvm),
                        "tcg" => Some(Accel::Tcg),
                        "auto" => None,
                        other => {
                            return Err(format!("--accel {other}: use kvm, tcg or auto"));
                        }
                    }
                }
                "--timeout" => {
                    let text = value()?;
                    let seconds: u64 = text.parse().map_err(|_| {
                        format!("--timeout {text}: expected a whole number of seconds")
                    })?;
                    options.timeout = Duration::from_secs(seconds);
                }
                "--peers" => options.peers = true,
                other => {
                    return Err(format!(
                        "unknown option {other} (usage: cargo xtask {USAGE})"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// Installs what the VM needs (qemu, busybox, xz, a 6.8+ kernel) when missing.
pub fn install_deps() -> Result<(), String> {
    packages::install_vm_packages()?;
    Kernel::for_vm().map(drop)
}

/// Builds, boots, checks; `Err` says which stage failed, with the console's last lines.
pub fn run(options: &Options) -> Result<(), String> {
    packages::install_vm_packages()?;
    let kernel = Kernel::for_vm()?;
    build::check_static(Path::new(BUSYBOX))?;
    let built = build::cargo_static(
        "build",
        &[
            "-p",
            "vessel",
            "-p",
            "vessel-demos",
            "-p",
            "vessel-conformance",
            "-p",
            "vessel-probe",
            "--bins",
        ],
    )?;
    for needed in ["vessel", "vessel-conformance", "vessel-probe"] {
        built.get(needed)?;
    }
    let tests = build::cargo_static("test", &core_test_args())?;
    let mut payload = Payload::running(CHECKS);
    payload.add_bins(&built);
    if options.peers {
        packages::install_vm_peers()?;
        for name in PEERS {
            let program = packages::find_program(name)
                .ok_or_else(|| format!("{name} is not on PATH after installing it"))?;
            payload.add_program(&program.to_string_lossy(), &program)?;
        }
    }
    for (name, exe) in &tests.bins {
        if CORE_TESTS.contains(&name.as_str()) {
            payload
                .copies
                .push((format!("vm/tests/{name}"), exe.clone()));
        } else {
            // The tests find the binaries they run where cargo built them
            // (`env!("CARGO_BIN_EXE_vessel")`): put them at the same path.
            payload
                .copies
                .push((exe.to_string_lossy().into_owned(), exe.clone()));
        }
    }
    let initrd = build::target_dir().join("initramfs.cpio");
    write_initramfs(&initrd, &kernel, &payload)?;
    let accel = match options.accel {
        Some(accel) => accel,
        None => choose_accel(&kernel)?,
    };
    println!(
        "xtask: booting {} ({}) with {} MiB, {CPUS} vCPUs, accel {}; time limit {} s",
        kernel.image.display(),
        size_text(&initrd),
        MEMORY_MIB,
        accel.name(),
        options.timeout.as_secs()
    );
    let boot = Boot {
        kernel: kernel.image.clone(),
        initrd,
        cmdline: CMDLINE.to_owned(),
        memory_mib: MEMORY_MIB,
        cpus: CPUS,
        accel,
        timeout: options.timeout,
        echo: true,
    };
    let mut console = qemu::boot(&boot)?;
    // The guest kernel (Debian's 6.12 under TCG) has oopsed once in the scheduler's load
    // balancing (sched_balance_update_blocked_averages, idle CPU) while the checks ran:
    // a fault of the guest kernel, not a failed check. Boot once more, loudly; a second
    // panic, or any failed check, still fails.
    if guest_kernel_panicked(&console) {
        println!(
            "xtask: the guest KERNEL panicked (not a failed check; see the oops above); booting the VM once more"
        );
        console = qemu::boot(&boot)?;
    }
    crate::book::runs::save_vm_lessons(&console.lines);
    report(&console, options.timeout)
}

/// True when the guest stopped without its exit line because its kernel panicked.
fn guest_kernel_panicked(console: &Console) -> bool {
    matches!(console.ending, Ending::NoExitLine(_))
        && console
            .lines
            .iter()
            .any(|l| l.contains("Kernel panic - not syncing"))
}

/// Turns the console into the result: the checks' exit code, or why there is none.
fn report(console: &Console, timeout: Duration) -> Result<(), String> {
    let booted = console.lines.iter().any(|l| l.starts_with("vm: kernel "));
    let took = console.took.as_secs();
    let tail = || console.tail(40);
    match &console.ending {
        Ending::Finished(0) => {
            println!("xtask: vm-conformance passed on cgroup v2 ({took} s)");
            Ok(())
        }
        Ending::Finished(code) => Err(format!(
            "the checks failed in the cgroup-v2 VM (exit {code}, {took} s); the console's last lines:\n{}",
            tail()
        )),
        Ending::NoExitLine(qemu) if !booted => Err(format!(
            "the VM did not boot: its init never ran ({qemu} after {took} s); the console's last lines:\n{}",
            tail()
        )),
        Ending::NoExitLine(qemu) => Err(format!(
            "the VM stopped before the checks finished ({qemu} after {took} s: init died or the kernel panicked); the console's last lines:\n{}",
            tail()
        )),
        Ending::TimedOut => Err(format!(
            "the VM {} within {} s and was killed (raise it with --timeout); the console's last lines:\n{}",
            if booted {
                "did not finish the checks"
            } else {
                "did not boot"
            },
            timeout.as_secs(),
            tail()
        )),
    }
}

/// vessel's own tests that exercise cgroups for real; in the VM they meet v2 (`exec`
/// joins a running container's cgroup, and detached containers keep theirs; the device
/// tests meet the BPF device program instead of v1's devices.allow).
const CORE_TESTS: [&str; 7] = [
    "cgroups_lifecycle",
    "cgroups_limits",
    "cgroups_cli",
    "exec",
    "devices",
    "devices_cli",
    "devices_bpf",
];

fn core_test_args() -> Vec<&'static str> {
    let mut args = vec!["--no-run", "-p", "vessel"];
    for test in CORE_TESTS {
        args.extend(["--test", test]);
    }
    args
}

/// What the guest holds besides busybox, init and the kernel modules.
pub struct Payload {
    /// What init runs, as `/vm/main.sh`.
    script: &'static str,
    /// Files copied in: path in the guest, path here.
    copies: Vec<(String, PathBuf)>,
    /// Small files written as given: path in the guest, contents.
    files: Vec<(String, Vec<u8>)>,
}

impl Payload {
    /// A guest whose init runs `script`.
    pub fn running(script: &'static str) -> Payload {
        Payload {
            script,
            copies: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The static executables of a build, in `/usr/local/bin`.
    pub fn add_bins(&mut self, built: &build::Built) {
        for (name, exe) in &built.bins {
            self.copies
                .push((format!("usr/local/bin/{name}"), exe.clone()));
        }
    }

    /// A dynamically linked program at `guest_path`, with its libraries and the loader
    /// at the paths it asks for (the same as here).
    pub fn add_program(&mut self, guest_path: &str, program: &Path) -> Result<(), String> {
        self.copies.push((
            guest_path.trim_start_matches('/').to_owned(),
            program.to_owned(),
        ));
        for library in build::shared_libraries(program)? {
            let at = library.to_string_lossy().trim_start_matches('/').to_owned();
            if !self.copies.iter().any(|(path, _)| *path == at) {
                self.copies.push((at, library));
            }
        }
        Ok(())
    }
}

/// Writes the guest's initramfs: busybox, init, the modules and `payload`.
fn write_initramfs(path: &Path, kernel: &Kernel, payload: &Payload) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("write {}: {e}", path.display());
    let file = File::create(path).map_err(fail)?;
    let mut archive = cpio::Archive::new(BufWriter::new(file));
    let modules = kernel
        .module_files(&kernel::WANTED_MODULES)?
        .iter()
        .map(|file| kernel::module_contents(kernel, file))
        .collect::<Result<Vec<_>, String>>()?;
    let names: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    (|| {
        archive.copy("bin/busybox", Path::new(BUSYBOX))?;
        archive.file("init", 0o755, INIT.as_bytes())?;
        archive.file("vm/main.sh", 0o755, payload.script.as_bytes())?;
        archive.file("vm/modules.list", 0o644, names.join("\n").as_bytes())?;
        for (name, data) in &modules {
            archive.file(
                &format!("lib/modules/{}/{name}", kernel.version),
                0o644,
                data,
            )?;
        }
        archive.file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")?;
        archive.file("etc/group", 0o644, b"root:x:0:\n")?;
        for dir in ["root", "proc", "sys", "dev", "run", "tmp"] {
            archive.dir(dir)?;
        }
        for (guest, here) in &payload.copies {
            archive.copy(guest, here)?;
        }
        for (guest, data) in &payload.files {
            archive.file(guest, 0o644, data)?;
        }
        archive.finish().map(drop)
    })()
    .map_err(fail)
}

/// KVM when /dev/kvm opens and a trial boot of a tiny guest finishes in time; TCG
/// otherwise (nested KVM hangs here rather than failing, hence the trial).
fn choose_accel(kernel: &Kernel) -> Result<Accel, String> {
    let opens = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !opens {
        println!("xtask: /dev/kvm cannot be opened: using TCG (slow)");
        return Ok(Accel::Tcg);
    }
    let initrd: PathBuf = build::target_dir().join("kvm-probe.cpio");
    let file = File::create(&initrd).map_err(|e| format!("write {}: {e}", initrd.display()))?;
    let mut archive = cpio::Archive::new(BufWriter::new(file));
    (|| {
        archive.copy("bin/busybox", Path::new(BUSYBOX))?;
        let init =
            "#!/bin/busybox sh\n/bin/busybox echo VESSEL-VM-EXIT=0\n/bin/busybox poweroff -f\n";
        archive.file("init", 0o755, init.as_bytes())?;
        archive.finish().map(drop)
    })()
    .map_err(|e| format!("write {}: {e}", initrd.display()))?;
    let console = qemu::boot(&Boot {
        kernel: kernel.image.clone(),
        initrd,
        cmdline: CMDLINE.to_owned(),
        memory_mib: 256,
        cpus: 1,
        accel: Accel::Kvm,
        timeout: KVM_PROBE_TIMEOUT,
        echo: false,
    })?;
    if matches!(console.ending, Ending::Finished(0)) {
        println!(
            "xtask: KVM works (trial boot in {} ms)",
            console.took.as_millis()
        );
        Ok(Accel::Kvm)
    } else {
        println!(
            "xtask: KVM did not boot a trial guest within {} s: using TCG (slow)",
            KVM_PROBE_TIMEOUT.as_secs()
        );
        Ok(Accel::Tcg)
    }
}

fn size_text(path: &Path) -> String {
    std::fs::metadata(path).map_or_else(
        |_| "?".to_owned(),
        |m| format!("initramfs {} MiB", m.len() >> 20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(lines: &[&str], ending: Ending) -> Console {
        Console {
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
            ending,
            took: Duration::from_secs(9),
        }
    }

    #[test]
    fn the_report_tells_no_boot_from_failed_checks() {
        let limit = Duration::from_secs(60);
        let booted = ["vm: kernel 6.12", "not ok - x: y", "VESSEL-VM-EXIT=1"];
        assert!(report(&console(&booted, Ending::Finished(0)), limit).is_ok());
        let failed = report(&console(&booted, Ending::Finished(1)), limit).unwrap_err();
        assert!(
            failed.starts_with("the checks failed in the cgroup-v2 VM (exit 1"),
            "{failed}"
        );
        assert!(
            failed.ends_with("not ok - x: y\nVESSEL-VM-EXIT=1"),
            "{failed}"
        );
        let panic = ["Kernel panic - not syncing: VFS"];
        let no_boot = report(
            &console(&panic, Ending::NoExitLine("qemu exit 0".into())),
            limit,
        )
        .unwrap_err();
        assert!(no_boot.starts_with("the VM did not boot"), "{no_boot}");
        assert!(
            no_boot.ends_with("Kernel panic - not syncing: VFS"),
            "{no_boot}"
        );
        let hung = report(&console(&booted[..1], Ending::TimedOut), limit).unwrap_err();
        assert!(
            hung.starts_with("the VM did not finish the checks within 60 s"),
            "{hung}"
        );
    }

    #[test]
    fn options_parse_and_bad_ones_say_what_to_do() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options =
            Options::parse(&args(&["--accel", "tcg", "--timeout", "60", "--peers"])).unwrap();
        assert!(options.peers);
        assert_eq!(options.accel, Some(Accel::Tcg));
        assert_eq!(options.timeout, Duration::from_secs(60));
        assert_eq!(Options::parse(&[]).unwrap().accel, None);
        let error = Options::parse(&args(&["--accel", "xen"])).unwrap_err();
        assert_eq!(error, "--accel xen: use kvm, tcg or auto");
        assert!(
            Options::parse(&args(&["--timeout"]))
                .unwrap_err()
                .contains("needs a value")
        );
    }
}
