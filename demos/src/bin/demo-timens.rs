//! # Lesson: the time namespace
//!
//! Containers share the host's kernel, and so its clocks: there is one wall clock
//! (`CLOCK_REALTIME`) for everybody. A *time namespace* shifts only the two clocks that
//! count from boot, `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME`, by offsets fixed before the
//! first process enters it. That is what lets a container be checkpointed on one machine
//! and restored on another without its monotonic clock jumping backwards.
//!
//! The lesson starts a container with `monotonic=+1 day, boottime=+2 days`, runs a copy of
//! itself inside to read the three clocks, and compares them with the host's.

use vessel::namespaces::time::TimeOffsets;
use vessel::{ContainerSpec, Namespace};
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-timens";
const CLOCKS: &str = "/lesson-clocks";
const OFFSETS: TimeOffsets = TimeOffsets {
    monotonic: 86_400,
    boottime: 2 * 86_400,
};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("clocks") {
        // Inside the container: print the three clocks, in seconds.
        println!("{}", clocks().map(|c| c.to_string()).join(" "));
        return;
    }
    Lesson::run(
        NAME,
        "a time namespace shifts the boot clocks, never the wall clock",
        run,
    )
}

/// `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`, `CLOCK_REALTIME` in whole seconds.
fn clocks() -> [i64; 3] {
    [
        libc::CLOCK_MONOTONIC,
        libc::CLOCK_BOOTTIME,
        libc::CLOCK_REALTIME,
    ]
    .map(|clock| {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a live timespec for clock_gettime to fill in.
        unsafe { libc::clock_gettime(clock, &mut now) };
        now.tv_sec
    })
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = ScratchRootfs::new(NAME)?;
    scratch.install_self(CLOCKS)?;

    lesson.step("start a container in a new time namespace with clock offsets");
    lesson.syscall("unshare(CLONE_NEWTIME) in the child, which then waits");
    lesson.syscall(
        "write \"monotonic 86400 0\\nboottime 172800 0\" to /proc/PID/timens_offsets (parent)",
    );
    lesson.syscall("setns(/proc/self/ns/time_for_children, CLONE_NEWTIME) just before execve");
    let spec = ContainerSpec::new(
        scratch.path(),
        [
            "/bin/sh",
            "-c",
            &format!("{CLOCKS} clocks; readlink /proc/self/ns/time"),
        ],
    )
    .time_offsets(OFFSETS);
    let before = clocks();
    let out = vessel::output(&spec)?;
    let after = clocks();
    let mut lines = out.stdout.lines();
    let inside: Vec<i64> = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .filter_map(|n| n.parse().ok())
        .collect();
    let inside_ns = lines.next().unwrap_or_default().to_owned();
    let host_ns = std::fs::read_link(format!("/proc/self/ns/{}", Namespace::Time))?;
    lesson.see("time namespace inside", &inside_ns);
    lesson.see("time namespace of the host", host_ns.display());
    lesson.claim(
        "the container has its own time namespace",
        !inside_ns.is_empty() && inside_ns != host_ns.to_string_lossy(),
    );
    let [mono, boot, real] = inside[..] else {
        return Err(format!(
            "the container printed {:?} (stderr {:?})",
            out.stdout, out.stderr
        )
        .into());
    };

    lesson.step("compare each clock inside with the host's, read just before and after");
    lesson.syscall("clock_gettime(2) with CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME");
    // Whole seconds read before and after the container: the difference can be off by
    // the seconds the container took to run, never more.
    let shifted = |inside: i64, index: usize, offset: i64| {
        inside - offset >= before[index] && inside - offset <= after[index] + 1
    };
    lesson.see(
        "CLOCK_MONOTONIC inside − host (s)",
        round_to_hour(mono - before[0]),
    );
    lesson.see(
        "CLOCK_BOOTTIME inside − host (s)",
        round_to_hour(boot - before[1]),
    );
    lesson.see(
        "CLOCK_REALTIME inside − host (s)",
        round_to_hour(real - before[2]),
    );
    lesson.claim(
        "CLOCK_MONOTONIC is ahead by the monotonic offset (1 day)",
        shifted(mono, 0, OFFSETS.monotonic),
    );
    lesson.claim(
        "CLOCK_BOOTTIME is ahead by the boottime offset (2 days)",
        shifted(boot, 1, OFFSETS.boottime),
    );
    lesson.claim(
        "CLOCK_REALTIME, the wall clock, is the host's: it is never namespaced",
        shifted(real, 2, 0),
    );
    Ok(())
}

/// A difference in seconds, rounded to the nearest hour so the transcript is stable.
fn round_to_hour(seconds: i64) -> i64 {
    (seconds + 1800).div_euclid(3600) * 3600
}
