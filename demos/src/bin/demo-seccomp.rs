//! # Lesson: seccomp, a filter on every system call
//!
//! Capabilities decide what root may do with a call the kernel runs; seccomp decides
//! whether the call runs at all. A container gets docker's default profile, compiled
//! by the parent into one classic-BPF program and installed by the child with
//! `seccomp(SECCOMP_SET_MODE_FILTER)` just before `execve`. From then on the kernel
//! runs that program on every system call the container makes: most are allowed,
//! about fifty (`keyctl`, `bpf`, `mount`, `unshare`, …) are refused with `EPERM`
//! unless the container holds the capability they belong to.
//!
//! This lesson runs a part of this very binary in three containers — no filter,
//! docker's default, and the default with `--cap-add SYS_ADMIN` — where it reads its
//! own `Seccomp:` lines in `/proc/self/status` and calls `unshare(CLONE_NEWUSER)`.
//! A new user namespace is harmless in itself, but it is where many kernel exploits
//! begin (its root holds every capability over the namespaces it then creates), which
//! is why docker's profile refuses it.

use std::process::exit;

use vessel::ContainerSpec;
use vessel::security::Seccomp;
use vessel::security::capabilities::{self, CapSet, DOCKER_DEFAULT};
use vessel::security::seccomp::{self, Target};
use vessel_demos::helper::Helper;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-seccomp";
/// This binary inside the container: reports its seccomp mode and tries `unshare`.
const PROBE: Helper = Helper {
    path: "/usr/local/bin/seccomp-probe",
    flag: "--probe-seccomp",
};

fn main() {
    if PROBE.invoked().is_some() {
        probe();
    }
    Lesson::run(
        NAME,
        "a seccomp filter refuses a system call that root with its capabilities could make",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = PROBE.prepare(lesson, NAME, "seccomp probe")?;
    let sys_admin = capabilities::parse("SYS_ADMIN").ok_or("CAP_SYS_ADMIN is unknown")?;

    lesson.step("compile docker's default profile, as the parent does before clone3");
    lesson.syscall("none yet: profile (JSON rules) → classic BPF, with seccompiler");
    let kernel = seccomp::compile::running_kernel();
    let default = instructions(DOCKER_DEFAULT, kernel)?;
    let widened = instructions(DOCKER_DEFAULT.with(sys_admin), kernel)?;
    lesson.see("BPF instructions for docker's 14 capabilities", default);
    lesson.see("BPF instructions with CAP_SYS_ADMIN added", widened);
    lesson.claim(
        "the program fits the kernel's limit of 4096 instructions (BPF_MAXINSNS)",
        default > 0 && default <= 4096 && widened <= 4096,
    );
    lesson.claim(
        "--cap-add SYS_ADMIN compiles a different program: the profile widens with the bounding set",
        widened != default,
    );

    lesson.step("seccomp=unconfined: no filter");
    lesson.syscall("read /proc/self/status; unshare(CLONE_NEWUSER)");
    let unconfined = probe_in(&scratch, Seccomp::Unconfined, CapSet::EMPTY)?;
    show(lesson, &unconfined);
    lesson.claim(
        "no filter: Seccomp: 0 (SECCOMP_MODE_DISABLED)",
        unconfined.mode == "0" && unconfined.filters == "0",
    );
    lesson.claim(
        "unshare(CLONE_NEWUSER) is allowed",
        unconfined.unshare == "allowed",
    );

    lesson.step("the default: docker's profile, installed by the child before execve");
    lesson.syscall("in the child: seccomp(SECCOMP_SET_MODE_FILTER, the compiled program)");
    let confined = probe_in(&scratch, Seccomp::Default, CapSet::EMPTY)?;
    show(lesson, &confined);
    lesson.claim(
        "a filter is installed: Seccomp: 2 (SECCOMP_MODE_FILTER), one program",
        confined.mode == "2" && confined.filters == "1",
    );
    lesson.claim(
        "the same unshare(CLONE_NEWUSER) is refused with EPERM: the filter answers, the kernel never runs the call",
        confined.unshare == "EPERM",
    );

    lesson.step("--cap-add SYS_ADMIN: docker's profile allows unshare to whoever holds it");
    lesson.syscall("the same probe; the filter is compiled for a bounding set with CAP_SYS_ADMIN");
    let widened = probe_in(&scratch, Seccomp::Default, CapSet::EMPTY.with(sys_admin))?;
    show(lesson, &widened);
    lesson.claim(
        "still filtered (Seccomp: 2), but unshare(CLONE_NEWUSER) is allowed",
        widened.mode == "2" && widened.unshare == "allowed",
    );
    Ok(())
}

/// The size of docker's default profile compiled for a container whose bounding set
/// is `bounding`.
fn instructions(
    bounding: CapSet,
    kernel: (u32, u32),
) -> Result<usize, vessel::security::SeccompError> {
    Ok(seccomp::compile(&seccomp::docker_default(), Target { bounding, kernel })?.len())
}

/// What the probe reported from inside a container.
struct Report {
    mode: String,
    filters: String,
    unshare: String,
}

/// Runs the probe in a container of `scratch` with `filter` and docker's capabilities
/// plus `extra`.
fn probe_in(
    scratch: &vessel_demos::scratch::ScratchRootfs,
    filter: Seccomp,
    extra: CapSet,
) -> Result<Report, vessel::Error> {
    let mut spec = ContainerSpec::new(scratch.path(), PROBE.command(&[])).add_capabilities(extra);
    spec.process_security.seccomp = filter;
    let out = vessel::output(&spec)?.stdout;
    let field = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".to_owned())
    };
    Ok(Report {
        mode: field("Seccomp:"),
        filters: field("Seccomp_filters:"),
        unshare: field("unshare="),
    })
}

fn show(lesson: &Lesson, report: &Report) {
    lesson.see("Seccomp", &report.mode);
    lesson.see("Seccomp_filters", &report.filters);
    lesson.see("unshare(CLONE_NEWUSER)", &report.unshare);
}

/// The probe, inside the container: prints its `Seccomp*` lines, then tries to create
/// a user namespace (and does nothing in it) and prints the outcome.
fn probe() -> ! {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines().filter(|l| l.starts_with("Seccomp")) {
        println!("{line}");
    }
    let outcome = match nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER) {
        Ok(()) => "allowed".to_owned(),
        Err(errno) => format!("{errno:?}"),
    };
    println!("unshare={outcome}");
    exit(0)
}
