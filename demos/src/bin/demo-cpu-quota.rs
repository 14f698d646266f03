//! # Lesson: a CPU quota is a budget of CPU time per period, and the cgroup keeps the books
//!
//! The CFS bandwidth controller gives a cgroup `quota` µs of CPU time in every `period`
//! µs of wall time: `--cpus 0.2` is 20000 µs every 100000 µs, a fifth of one CPU. When the
//! cgroup's processes have used up the quota, the scheduler takes them off the CPU
//! (*throttles* them) until the next period begins. A busy loop therefore runs 20 ms,
//! waits 80 ms, runs 20 ms… and averages 20%, however hard it tries.
//!
//! This lesson runs a part of this very binary inside a container limited to 0.2 CPUs: it
//! spins for about 3 s of wall time. The share is measured by the cgroup's *own*
//! accounting (v1 `cpuacct.usage`, v2 `usage_usec` in `cpu.stat`) divided by the wall
//! time, and `nr_throttled` in `cpu.stat` shows the throttling happening.
//!
//! The machine may be busy with other work: the quota is a ceiling, not a guarantee, so
//! on a loaded machine the container can get less than its quota but never more.

use std::os::fd::AsFd;
use std::process::exit;
use std::time::{Duration, Instant};

use vessel::cgroups::{CgroupSpec, CpuQuota, Resources};
use vessel::{Container, ContainerSpec, Stdio};
use vessel_demos::cgroup_view::{any_left, cgroup_name, counter_names, show_limits};
use vessel_demos::helper::Helper;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-cpu-quota";
/// This binary as the busy loop inside the container.
const SPINNER: Helper = Helper {
    path: "/usr/local/bin/spinner",
    flag: "--spin-ms",
};
const SPIN_MS: u64 = 3000;
/// 20% of one CPU: 20 ms of CPU time in every 100 ms period.
const QUOTA: CpuQuota = CpuQuota {
    quota_us: 20_000,
    period_us: 100_000,
};

fn main() {
    if let Some([ms]) = SPINNER.invoked().as_deref() {
        spin(Duration::from_millis(ms.parse().unwrap_or(SPIN_MS)));
    }
    Lesson::run(
        NAME,
        "a CPU quota holds a busy loop to its share, by the cgroup's own accounting",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = SPINNER.prepare(lesson, NAME, "busy loop")?;

    lesson.step("start a container limited to 0.2 CPUs that spins for three seconds");
    let limits = Resources {
        cpu_quota: Some(QUOTA),
        ..Resources::default()
    };
    let spec = ContainerSpec::new(scratch.path(), SPINNER.command(&[&SPIN_MS.to_string()]))
        .cgroup(CgroupSpec::new(cgroup_name(NAME), limits).counting());
    let null = std::fs::File::open("/dev/null")?;
    let started = Instant::now();
    let mut running = Container::spawn_with_stdio(
        &spec,
        Stdio {
            stdin: Some(null.as_fd()),
            ..Stdio::default()
        },
    )?;
    let cgroup = running.cgroup().ok_or("the container has no cgroup")?;
    let names = counter_names(cgroup);
    let dirs = cgroup.dirs();
    show_limits(lesson, cgroup, "cpu");
    let before = cgroup.stats()?;

    lesson.step("wait for it, then divide the cgroup's CPU time by the wall time");
    let status = running.wait()?;
    let wall = started.elapsed();
    let after = running.stats()?.ok_or("no final stats")?;
    // ANCHOR: share
    let share = after.cpu_usage_ns as f64 / wall.as_nanos() as f64;
    // ANCHOR_END: share
    lesson.syscall(&format!(
        "read {} and {} before rmdir",
        names.cpu_usage, names.throttled
    ));
    lesson.see("exit status", status);
    lesson.see("wall time", format!("{:.3} s", wall.as_secs_f64()));
    lesson.see(
        &format!("CPU time ({})", names.cpu_usage),
        format!("{:.3} s", after.cpu_usage_ns as f64 / 1e9),
    );
    lesson.see(
        "measured share",
        format!("{:.1}% of one CPU", share * 100.0),
    );
    lesson.see(
        names.throttled,
        format!(
            "{} → {}",
            before.cpu_throttled_periods, after.cpu_throttled_periods
        ),
    );
    lesson.see(
        "throttled time",
        format!("{:.3} s", after.cpu_throttled_ns as f64 / 1e9),
    );
    lesson.claim("the busy loop ran to its end", status.success());
    lesson.claim(
        "the container used 20% ± 3% of one CPU, by the cgroup's own accounting",
        (0.17..=0.23).contains(&share),
    );
    lesson.claim(
        "nr_throttled grew: the scheduler stopped the loop when the quota ran out",
        after.cpu_throttled_periods > before.cpu_throttled_periods,
    );

    lesson.step("clean up");
    lesson.syscall("rmdir the container's cgroup directories");
    lesson.claim(
        "no cgroup directory of the container remains",
        !any_left(&dirs),
    );
    Ok(())
}

// ANCHOR: spin
/// The busy loop, run inside the container: burn CPU until `wall` has passed.
fn spin(wall: Duration) -> ! {
    let end = Instant::now() + wall;
    let mut x: u64 = 0;
    while Instant::now() < end {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    exit(0)
}
// ANCHOR_END: spin
