//! # Lesson: the other controllers — freezer, devices, io weight, hugetlb — each shown for real
//!
//! Memory, CPU and pids have lessons of their own. The source notes name four more
//! controllers, and each is a file (or, for devices on v2, a program) in the container's
//! cgroup:
//!
//! * **freezer**: `vessel pause` writes `FROZEN` to v1 `freezer.state` (v2:
//!   `1` to `cgroup.freeze`) and waits until the kernel says every task stopped. A
//!   frozen process is not killed nor signalled: it simply gets no CPU time until it is
//!   thawed (`vessel resume`), which is how `vessel commit` packs a layer nothing writes.
//! * **devices**: root in a container may *make* any device node (`CAP_MKNOD`), but the
//!   device cgroup decides which ones it may *open*: docker's allow-list (`/dev/null`,
//!   `/dev/zero`, ttys, …) opens, anything else is `EPERM`.
//! * **io weight** (`--blkio-weight`): a share of a disk when cgroups compete. Which file
//!   holds it depends on the kernel's I/O policy, and it only acts on a disk whose
//!   scheduler honours it (BFQ); this lesson shows what this machine has.
//! * **hugetlb**: a limit on huge pages; the lesson reports where the controller is and
//!   why a limit cannot be seen acting here.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use vessel::ContainerSpec;
use vessel::cgroups::{CgroupSpec, Frozen, Resources};
use vessel::test_support::HeldContainer;
use vessel_demos::cgroup_view::{any_left, cgroup_name};
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-more-controllers";
/// How long the lesson watches the CPU time of the busy loop, in each state.
const WATCH: Duration = Duration::from_millis(300);

/// Make device nodes and try to open each: prints `KEY=opened` or `KEY=<error>`.
const DEVICE_ATTEMPTS: &str = "\
try() { if (: < $1) 2>/tmp/e; then echo $2=opened; else echo $2=$(sed 's/.*: //' /tmp/e); fi; }; \
mknod /tmp/null c 1 3 && try /tmp/null null; \
mknod /tmp/kvm c 10 232 && try /tmp/kvm kvm; \
mknod /tmp/loop0 b 7 0 && try /tmp/loop0 loop0; \
echo done; read -r _; exit 0";

fn main() {
    Lesson::run(
        NAME,
        "the freezer, devices, io and hugetlb controllers, each shown on this kernel",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = ScratchRootfs::new(NAME)?;
    freezer(lesson, &scratch)?;
    devices(lesson, &scratch)?;
    io_weight(lesson, &scratch)?;
    hugetlb(lesson);
    Ok(())
}

/// A container with a cgroup in the controllers' hierarchies (v1 on a hybrid host).
fn spec(scratch: &ScratchRootfs, part: &str, command: &str, limits: Resources) -> ContainerSpec {
    let name = cgroup_name(&format!("{NAME}-{part}"));
    ContainerSpec::new(scratch.path(), ["/bin/sh", "-c", command])
        .cgroup(CgroupSpec::new(name, limits).counting())
}

fn freezer(lesson: &mut Lesson, scratch: &ScratchRootfs) -> Outcome {
    lesson.step("freezer: a busy loop, paused and resumed as vessel pause/resume do");
    let spec = spec(
        scratch,
        "freezer",
        "echo ready; while :; do :; done",
        Resources::default(),
    );
    let mut held = HeldContainer::start(&spec)?;
    held.next_line()?;
    let pid = held.running().pid();
    let dirs = held.running().cgroup().ok_or("no cgroup")?.dirs();
    let running = cpu_time_over(pid, WATCH)?;
    lesson.syscall("/proc/PID/stat (state), /proc/PID/schedstat (time on a CPU)");
    lesson.note(&format!(
        "each state is watched for {} ms",
        WATCH.as_millis()
    ));
    lesson.see("state before", state(pid)?);
    lesson.see("ms on a CPU, running", ms(running));

    let frozen = Frozen::freeze(&dirs)?.ok_or("the container's cgroup has no freezer")?;
    let (file, value) = if frozen.dir().join("cgroup.freeze").exists() {
        ("cgroup.freeze", "1")
    } else {
        ("freezer.state", "FROZEN")
    };
    lesson.syscall(&format!(
        "write {value:?} to {file} in {}, wait for the kernel to confirm",
        frozen.dir().display()
    ));
    frozen.keep_frozen();
    let paused_state = state(pid)?;
    let paused = cpu_time_over(pid, WATCH)?;
    lesson.see("state while frozen", &paused_state);
    lesson.see("ms on a CPU, frozen", ms(paused));

    lesson.syscall("write \"0\"/\"THAWED\" back (vessel resume)");
    Frozen::thaw_dirs(&dirs)?;
    let thawed = cpu_time_over(pid, WATCH)?;
    lesson.see("state after", state(pid)?);
    lesson.see("ms on a CPU, thawed", ms(thawed));

    lesson.claim("running, the loop's CPU time advances", !running.is_zero());
    lesson.claim(
        "frozen, it is off the CPU (state D on v1, S on v2; never R)",
        paused_state.starts_with('D') || paused_state.starts_with('S'),
    );
    lesson.claim(
        "frozen, its CPU time did not advance at all",
        paused.is_zero(),
    );
    // Only "more than nothing", here and before: on a busy machine the loop may get little.
    lesson.claim("thawed, its CPU time advances again", !thawed.is_zero());
    held.running().kill(libc::SIGKILL)?;
    let status = held.release()?;
    lesson.see("after SIGKILL", status);
    lesson.claim(
        "no cgroup directory of the container remains",
        !any_left(&dirs),
    );
    Ok(())
}

/// The process's state letter and name, from `/proc/PID/stat`.
fn state(pid: libc::pid_t) -> Result<String, Box<dyn std::error::Error>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(") ").ok_or("no ) in stat")?.1;
    let letter = after.chars().next().ok_or("empty stat")?;
    let name = match letter {
        'R' => "running",
        'S' => "sleeping",
        'D' => "uninterruptible (frozen)",
        _ => "other",
    };
    Ok(format!("{letter} ({name})"))
}

/// CPU time `pid` gets during `wall`, by the scheduler's own count (`schedstat`).
fn cpu_time_over(pid: libc::pid_t, wall: Duration) -> Result<Duration, Box<dyn std::error::Error>> {
    let on_cpu = || -> Result<u64, Box<dyn std::error::Error>> {
        let text = fs::read_to_string(format!("/proc/{pid}/schedstat"))?;
        Ok(text.split_whitespace().next().ok_or("empty")?.parse()?)
    };
    let before = on_cpu()?;
    // A measuring interval, not a wait for an event: the loop either runs or it does not.
    let end = Instant::now() + wall;
    while Instant::now() < end {
        std::thread::sleep(end - Instant::now());
    }
    Ok(Duration::from_nanos(on_cpu()?.saturating_sub(before)))
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

fn devices(lesson: &mut Lesson, scratch: &ScratchRootfs) -> Outcome {
    lesson.step("devices: make three device nodes as root inside, open each");
    let spec = spec(scratch, "devices", DEVICE_ATTEMPTS, Resources::default());
    let mut held = HeldContainer::start(&spec)?;
    let out = held.lines_until("done")?;
    let cgroup = held.running().cgroup().ok_or("no cgroup")?;
    let value = |key: &str| {
        out.iter()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or("not made")
            .to_owned()
    };
    lesson.syscall("mknod(2) then open(2) of c 1:3, c 10:232, b 7:0");
    lesson.see("/dev/null (c 1:3, on the allow-list)", value("null"));
    lesson.see("kvm (c 10:232, not on it)", value("kvm"));
    lesson.see("loop0 (b 7:0, not on it)", value("loop0"));
    match cgroup.dir_of("devices") {
        Some(dir) => {
            let list = fs::read_to_string(dir.join("devices.list"))?;
            lesson.syscall(&format!("read {}/devices.list", dir.display()));
            lesson.see("rules", list.lines().count());
            lesson.see(
                "rule for /dev/null",
                list.lines()
                    .find(|l| l.starts_with("c 1:3 "))
                    .unwrap_or("none"),
            );
            lesson.claim(
                "devices.list allows c 1:3 and neither c 10:232 nor every device (a *:*)",
                list.lines().any(|l| l == "c 1:3 rwm")
                    && !list
                        .lines()
                        .any(|l| l.starts_with("c 10:232") || l.starts_with("a ")),
            );
        }
        None => {
            lesson.syscall("no devices.list on v2: the rules are a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup");
        }
    }
    lesson.claim("the allowed node opens", value("null") == "opened");
    lesson.claim(
        "the others are made but refused: EPERM",
        value("kvm") == "Operation not permitted" && value("loop0") == "Operation not permitted",
    );
    let status = held.release()?;
    lesson.claim("the container ended normally", status.success());
    Ok(())
}

fn io_weight(lesson: &mut Lesson, scratch: &ScratchRootfs) -> Outcome {
    lesson.step("io: --blkio-weight 300, read back from the container's cgroup");
    for disk in disks() {
        lesson.see(
            &format!("{disk} scheduler"),
            fs::read_to_string(format!("/sys/block/{disk}/queue/scheduler"))?.trim(),
        );
    }
    let bfq = disks().iter().any(|d| {
        fs::read_to_string(format!("/sys/block/{d}/queue/scheduler"))
            .is_ok_and(|s| s.contains("bfq"))
    });
    lesson.see("a disk can be scheduled by bfq", bfq);
    let limits = Resources {
        blkio_weight: Some(300),
        ..Resources::default()
    };
    let spec = spec(scratch, "io", "echo ready; read -r _; exit 0", limits);
    let layout = spec.cgroup.as_ref().ok_or("no cgroup")?.layout()?;
    let dirs = spec.cgroup.as_ref().ok_or("no cgroup")?.dirs_in(&layout);
    match HeldContainer::start(&spec) {
        Ok(mut held) => {
            held.next_line()?;
            let cgroup = held.running().cgroup().ok_or("no cgroup")?;
            let written = cgroup
                .written()
                .iter()
                .find(|w| w.value == "300")
                .ok_or("weight not written")?
                .clone();
            let back = fs::read_to_string(&written.file)?;
            lesson.syscall(&format!("write \"300\" to {}", written.file.display()));
            lesson.see("read back", back.trim());
            lesson.claim(
                "the weight reads back as written (v2 io.weight says `default 300`)",
                back.trim() == "300" || back.trim() == "default 300",
            );
            let status = held.release()?;
            lesson.claim("the container ended normally", status.success());
        }
        Err(error) => {
            let chain = vessel::cli::error_chain(&error);
            lesson.syscall(
                "look for blkio.weight / blkio.bfq.weight (v1), io.weight / io.bfq.weight (v2)",
            );
            lesson.see("vessel says", &chain);
            lesson.claim(
                "this kernel has no weight file, and vessel refuses the flag naming both files",
                chain.contains("neither blkio.weight nor blkio.bfq.weight")
                    || chain.contains("neither io.weight nor io.bfq.weight"),
            );
            lesson.claim(
                "the refused container left no cgroup directory",
                !any_left(&dirs),
            );
        }
    }
    if !bfq {
        lesson.note(
            "no disk here offers BFQ: a weight, even where it can be written, would change \
             nothing (showing its effect needs a BFQ-scheduled disk and two competing readers)",
        );
    }
    Ok(())
}

/// The machine's real disks (not loop, ram or zram devices).
fn disks() -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir("/sys/block")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !["loop", "ram", "zram", "nbd"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .filter(|n| Path::new(&format!("/sys/block/{n}/queue/scheduler")).exists())
        .collect();
    found.sort();
    found
}

fn hugetlb(lesson: &mut Lesson) {
    lesson.step("hugetlb: where the controller is, and why no limit is shown acting");
    let cgroups = fs::read_to_string("/proc/cgroups").unwrap_or_default();
    let line = cgroups.lines().find(|l| l.starts_with("hugetlb\t"));
    let hierarchy = line.and_then(|l| l.split('\t').nth(1)).unwrap_or("absent");
    lesson.syscall("read /proc/cgroups, cgroup.controllers, /proc/meminfo");
    lesson.see(
        "hugetlb in /proc/cgroups (hierarchy, 0 = no v1 mount)",
        hierarchy,
    );
    let pages = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("HugePages_Total:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    let v2 = [
        "/sys/fs/cgroup/cgroup.controllers",
        "/sys/fs/cgroup/unified/cgroup.controllers",
    ]
    .iter()
    .find_map(|f| fs::read_to_string(f).ok())
    .is_some_and(|c| c.split_whitespace().any(|c| c == "hugetlb"));
    lesson.see("hugetlb offered by the v2 hierarchy's root", v2);
    lesson.see("HugePages_Total", &pages);
    lesson.note(
        "skipped: vessel has no --hugetlb limit, and a limit acts only on reserved huge \
         pages; reserving them means writing vm.nr_hugepages, a host-wide sysctl no lesson \
         may write",
    );
}
