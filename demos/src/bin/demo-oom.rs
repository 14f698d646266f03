//! # Lesson: a memory limit is enforced by the OOM killer, and the cgroup counts the kill
//!
//! A cgroup's memory limit is not a polite request. Every page a process touches is
//! *charged* to its cgroup; when a charge would pass the limit, the kernel first tries to
//! reclaim (drop caches, swap — but vessel turns swap off for the container), and when
//! nothing is left to reclaim it runs the OOM killer *inside that cgroup*: it picks the
//! biggest process there and sends it `SIGKILL`. The host and other cgroups never notice.
//!
//! This lesson gives a container 64 MiB, runs a part of this very binary inside it that
//! touches 256 MiB one page at a time, and shows what the kernel did: the files vessel
//! wrote (v1 `memory.limit_in_bytes` + `memory.memsw.limit_in_bytes`, or v2 `memory.max` +
//! `memory.swap.max`), the exit status, and the cgroup's own `oom_kill` counter. That
//! counter is how vessel (like docker's `OOMKilled`) *knows* rather than guesses that a
//! `SIGKILL` came from the OOM killer.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::exit;

use vessel::cgroups::{CgroupSpec, Resources};
use vessel::process::pipe::Pipe;
use vessel::{Container, ContainerSpec, ExitStatus, Stdio};
use vessel_demos::cgroup_view::{any_left, cgroup_name, counter_names, show_limits};
use vessel_demos::helper::Helper;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-oom";
/// This binary as the memory toucher inside the container.
const TOUCHER: Helper = Helper {
    path: "/usr/local/bin/toucher",
    flag: "--touch-mib",
};
const LIMIT_MIB: u64 = 64;
const TOUCH_MIB: usize = 256;

fn main() {
    if let Some([mib]) = TOUCHER.invoked().as_deref() {
        touch(mib.parse().unwrap_or(TOUCH_MIB));
    }
    Lesson::run(
        NAME,
        "a memory limit is enforced by the kernel's OOM killer, and the cgroup counts the kill",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = TOUCHER.prepare(lesson, NAME, "memory toucher")?;

    lesson.step(&format!(
        "start a container limited to {LIMIT_MIB} MiB that touches {TOUCH_MIB} MiB"
    ));
    let limits = Resources {
        memory_bytes: Some(LIMIT_MIB << 20),
        ..Resources::default()
    };
    let spec = ContainerSpec::new(scratch.path(), TOUCHER.command(&[&TOUCH_MIB.to_string()]))
        .cgroup(CgroupSpec::new(cgroup_name(NAME), limits).counting());
    let out = Pipe::new()?;
    let mut running = Container::spawn_with_stdio(
        &spec,
        Stdio {
            stdout: Some(out.write.as_fd()),
            ..Stdio::default()
        },
    )?;
    drop(out.write);
    let cgroup = running.cgroup().ok_or("the container has no cgroup")?;
    let names = counter_names(cgroup);
    let dirs = cgroup.dirs();
    show_limits(lesson, cgroup, "memory");
    lesson.note("the toucher writes one byte in every page, so each page is really charged");

    lesson.step("wait for the container and read the cgroup's counters");
    let mut progress = String::new();
    File::from(out.read).read_to_string(&mut progress)?;
    let status = running.wait()?;
    let stats = running.stats()?.ok_or("no final stats")?;
    let reached: u64 = progress
        .lines()
        .last()
        .and_then(|l| {
            l.strip_prefix("touched ")?
                .strip_suffix(" MiB")?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    lesson.syscall("waitpid(2); then read the counters before rmdir");
    lesson.see("exit status", status);
    lesson.see(
        "the toucher's last report",
        format!("touched {reached} MiB"),
    );
    lesson.see(names.oom_kills, stats.oom_kills);
    let peak = stats
        .memory_peak_bytes
        .map_or("-".to_owned(), |p| p.to_string());
    lesson.see(names.memory_peak, peak);
    lesson.see(names.limit_hits, stats.memory_limit_hits);
    lesson.claim(
        "the kernel killed the container with SIGKILL (exit 137)",
        status == ExitStatus::Signaled(libc::SIGKILL),
    );
    lesson.claim(
        "the cgroup's own counter recorded the OOM kill, so vessel reports it as one",
        stats.oom_kills >= 1 && running.oom_killed(),
    );
    lesson.claim(
        &format!("the toucher was stopped below {LIMIT_MIB} MiB, far from {TOUCH_MIB} MiB"),
        reached < LIMIT_MIB,
    );
    if let Some(peak) = stats.memory_peak_bytes {
        lesson.claim(
            &format!("the cgroup's peak memory never passed {LIMIT_MIB} MiB"),
            peak <= LIMIT_MIB << 20,
        );
    }

    lesson.step("clean up");
    lesson.syscall("rmdir the container's cgroup directories");
    lesson.claim(
        "no cgroup directory of the container remains",
        !any_left(&dirs),
    );
    Ok(())
}

// ANCHOR: touch
/// The toucher, run inside the container: allocate `mib` MiB and write one byte per page,
/// reporting each MiB as it goes. Under the limit it is killed part-way.
fn touch(mib: usize) -> ! {
    const MIB: usize = 1 << 20;
    const PAGE: usize = 4096;
    let mut stdout = std::io::stdout();
    let mut memory: Vec<u8> = Vec::with_capacity(mib * MIB);
    for done in 1..=mib {
        // Growing the vector writes every byte: each page is faulted in and charged.
        memory.resize(done * MIB, 1);
        for page in memory[(done - 1) * MIB..].chunks_mut(PAGE) {
            page[0] = 2;
        }
        let _ = writeln!(stdout, "touched {done} MiB");
        let _ = stdout.flush();
    }
    exit(0)
}
// ANCHOR_END: touch
