//! # Lesson: `pids.max` stops a fork bomb inside the container, and the host is untouched
//!
//! Every process and thread in a cgroup is counted in `pids.current`. When a `fork` or
//! `clone` would take it past `pids.max`, the kernel refuses with `EAGAIN` — the same
//! error as running out of the system-wide limit, but only for this cgroup — and counts
//! the refusal in `pids.events`. A fork bomb in a container with a pids limit therefore
//! stops at the limit, and the host (and every other cgroup) can still start processes.
//!
//! This lesson runs a part of this very binary inside a container with `pids.max = 16`:
//! it forks children that just wait, until a fork fails, and reports how many it made
//! and the `errno`. Itself PID 1 of the container, it counts as one of the 16.
//!
//! `demo-pids --wait` holds the 16 processes until Enter is pressed, so that
//! `pids.current` can be read by hand from a second terminal.

use std::process::exit;

use vessel::ContainerSpec;
use vessel::cgroups::{CgroupSpec, Resources};
use vessel::test_support::HeldContainer;
use vessel_demos::cgroup_view::{any_left, cgroup_name, show_limits};
use vessel_demos::helper::Helper;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-pids";
/// This binary as the fork bomb inside the container.
const BOMB: Helper = Helper {
    path: "/usr/local/bin/forkbomb",
    flag: "--fork-until-refused",
};
const PIDS_MAX: u64 = 16;

fn main() {
    if BOMB.invoked().is_some() {
        fork_until_refused();
    }
    Lesson::run(
        NAME,
        "pids.max stops a fork bomb inside the container, and the host is untouched",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = BOMB.prepare(lesson, NAME, "fork bomb")?;

    lesson.step(&format!(
        "start the fork bomb in a container with pids.max = {PIDS_MAX}"
    ));
    let limits = Resources {
        pids_max: Some(PIDS_MAX),
        ..Resources::default()
    };
    let spec = ContainerSpec::new(scratch.path(), BOMB.command(&[]))
        .cgroup(CgroupSpec::new(cgroup_name(NAME), limits));
    let mut held = HeldContainer::start(&spec)?;
    let cgroup = held
        .running()
        .cgroup()
        .ok_or("the container has no cgroup")?;
    let dirs = cgroup.dirs();
    show_limits(lesson, cgroup, "pids");

    lesson.step("read the bomb's report while its children are still alive");
    let report = held.next_line()?;
    let live = held.running().stats()?.ok_or("no stats")?;
    lesson.syscall("fork(2) in a loop until it fails; read pids.current and pids.events");
    lesson.see("the bomb says", &report);
    lesson.see("pids.current", live.pids);
    lesson.see("pids.events: max", live.pids_limit_hits);
    lesson.claim(
        &format!(
            "fork failed with EAGAIN after {} children: with the bomb itself, {PIDS_MAX} processes",
            PIDS_MAX - 1
        ),
        report == format!("forked {} children, then fork failed: EAGAIN", PIDS_MAX - 1),
    );
    lesson.claim(
        &format!("pids.current is exactly pids.max ({PIDS_MAX})"),
        live.pids == PIDS_MAX,
    );
    lesson.claim(
        "the cgroup counted the refused fork in pids.events",
        live.pids_limit_hits >= 1,
    );

    lesson.step("meanwhile, on the host");
    let host = std::process::Command::new("true").status()?;
    lesson.syscall("fork + execve(\"true\") from the lesson itself, outside the cgroup");
    lesson.see("host process", host);
    lesson.claim("the host can still start processes", host.success());

    if std::env::args().any(|a| a == "--wait") {
        hold_for_the_reader()?;
    }

    lesson.step("let the bomb exit: PID 1's exit kills its children");
    let status = held.release()?;
    lesson.see("exit status", status);
    lesson.claim("the container ended normally", status.success());
    lesson.syscall("rmdir the container's cgroup directories");
    lesson.claim(
        "no cgroup directory of the container remains",
        !any_left(&dirs),
    );
    Ok(())
}

/// `--wait`: keep the container's processes alive until the reader presses Enter.
fn hold_for_the_reader() -> std::io::Result<()> {
    println!(
        "\n    --wait: the {PIDS_MAX} processes are held. In a second terminal, cat pids.current in \
         the directory of the 'kernel: mkdir' line above; then press Enter here."
    );
    std::io::stdin().read_line(&mut String::new()).map(drop)
}

// ANCHOR: fork_until_refused
/// The fork bomb, run inside the container as its PID 1: fork children that wait forever,
/// until `fork` fails; report how many and why; then wait for stdin to close.
fn fork_until_refused() -> ! {
    let mut children = 0;
    let errno = loop {
        // SAFETY: this process is single-threaded (the lesson binary in its hidden mode),
        // so the child may run any code; it only calls `pause`.
        match unsafe { libc::fork() } {
            -1 => break std::io::Error::last_os_error(),
            0 => loop {
                // SAFETY: pause has no preconditions; the child waits to be killed.
                unsafe { libc::pause() };
            },
            _ => children += 1,
        }
    };
    let name = match errno.raw_os_error() {
        Some(libc::EAGAIN) => "EAGAIN".to_owned(),
        _ => errno.to_string(),
    };
    println!("forked {children} children, then fork failed: {name}");
    // Hold the children until the lesson has looked; end-of-file on stdin ends us, and
    // with PID 1 gone the kernel kills the rest of the namespace.
    let _ = std::io::stdin().read_line(&mut String::new());
    exit(0)
}
// ANCHOR_END: fork_until_refused
