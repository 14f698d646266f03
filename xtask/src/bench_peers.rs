//! `cargo xtask bench-peers`: vessel, runc, crun and youki starting the same OCI bundle,
//! timed as a user would time them (process start to exit), interleaved so that the
//! machine's mood affects them all alike.
//!
//! Each round runs every runtime once, in turn; the first rounds are warm-up. The table
//! gives median and p90 wall time, each runtime's ratio to vessel, and its peak RSS
//! (the median over a few more rounds run under GNU time, after the timed ones; see
//! [`crate::peak_rss`] for what it covers), plus two floors:
//! starting a static `true` at all, and starting it in the same namespaces with
//! `unshare(1)`. Each runtime runs two bundles: one with docker's default hardening
//! (capabilities, seccomp, masked paths, device cgroup; what a default `vessel run`
//! gets) and one without, so the table shows what the hardening costs. A runtime that is not installed is installed (runc and crun from Debian,
//! youki with cargo); one that cannot run here is listed with the reason.
//!
//! Two more kinds of row: vessel's OCI split as podman and containerd drive it, `create`,
//! `start` and the wait for the exit (issue 15 wants it within 1.2x of `vessel run
//! --bundle`; `delete` runs after the clock stops) and the whole lifecycle with `delete`
//! timed too; and podman (`podman --runtime X run --rm IMAGE true`, its own state and
//! image as in the client tests) driving each runtime, so the table shows what a real
//! client adds on top of the runtime. A third floor times `create` followed by the least
//! any `start` can be (`sh` writing the byte to the init's exec fifo), so the table shows
//! how much of the split's cost is `vessel start`'s own process.
//!
//! On the host, two rows of vessel built static-pie (as the VM runs it: no dynamic
//! loader) show what dynamic loading costs each vessel process of a start.
//!
//! And rows per isolation level of vessel's own CLI (see [`crate::bench_isolation`]).
//! The same comparison runs inside the cgroup-v2 VM (`cargo xtask vm-bench-peers`, see
//! [`crate::vm::bench`]), where crun starts: there xtask is [`Place::Guest`], with
//! everything already in the initramfs and no podman.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench_isolation::{self, Isolation};
use crate::bench_launch::{Launch, Split};
use crate::bundle::Hardening;
use crate::peak_rss::PeakRss;
use crate::peer_cgroups::PeerCgroups;
use crate::wait;
use crate::{bundle, clone_trace, criterion_output, packages, shell};
use vessel_clients::docker_cli::DockerCli;

const WORK_DIR: &str = "/var/tmp/vessel-bench-peers";
const WARM_UP_ROUNDS: usize = 5;
const DEFAULT_RUNS: usize = 50;
/// A start that takes longer than this is killed and counted as hung.
const HANG_TIMEOUT: Duration = Duration::from_secs(30);
/// A runtime that hangs this often is dropped from the comparison.
const MAX_HANGS: usize = 3;
/// Rounds run under GNU time for the peak RSS, after the timed ones.
const RSS_ROUNDS: usize = 5;

/// Where bench-peers runs, and so what it prepares before measuring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// This machine: installs the peers, builds vessel in release, adds podman's rows.
    Host,
    /// Inside the cgroup-v2 VM: the static release `vessel` at this path, the peers,
    /// GNU time and strace are in the initramfs already; there is no podman and no
    /// bridge (the guest has no veth module and no nft).
    Guest { vessel: PathBuf },
}

/// The first and last lines of the table on the guest's console, for the host to find.
pub const TABLE_BEGIN: &str = "VESSEL-BENCH-TABLE-BEGIN";
pub const TABLE_END: &str = "VESSEL-BENCH-TABLE-END";

/// One contender: how to start the bundle, and how to clean up after a run.
pub struct Contender {
    name: String,
    start: Launch,
    /// Run after each start (ignored if it fails): `delete` for runtimes whose `run`
    /// leaves the container behind.
    cleanup: Option<Vec<String>>,
    samples: Vec<Duration>,
    /// Peak RSS in KiB of each start run under GNU time.
    peaks: Vec<u64>,
    hangs: usize,
    failure: Option<String>,
}

impl Contender {
    /// The contender's name as a container id prefix.
    fn id_base(&self) -> String {
        self.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    }

    pub fn new(name: &str, start: Vec<String>) -> Contender {
        Contender::launching(name, Launch::Argv(start))
    }

    fn launching(name: &str, start: Launch) -> Contender {
        Contender {
            name: name.to_owned(),
            start,
            cleanup: None,
            samples: Vec::new(),
            peaks: Vec::new(),
            hangs: 0,
            failure: None,
        }
    }

    /// Runs once with `{id}` replaced (under GNU time with `rss`); returns the wall
    /// time, or records why it failed.
    fn run_once(&mut self, id: &str, rss: Option<&PeakRss>) -> Option<Duration> {
        let begin = Instant::now();
        let outcome = self.start.run(id, HANG_TIMEOUT, rss);
        let elapsed = begin.elapsed();
        if let Some(cleanup) = &self.cleanup {
            let cleanup: Vec<String> = cleanup.iter().map(|a| a.replace("{id}", id)).collect();
            let _ = Command::new(&cleanup[0]).args(&cleanup[1..]).output();
        }
        match outcome {
            Ok(wait::Outcome::Exited(status, _)) if status.success() => Some(elapsed),
            Ok(wait::Outcome::Exited(status, stderr)) => {
                let reason = stderr
                    .lines()
                    .last()
                    .unwrap_or("no message")
                    .trim()
                    .to_owned();
                self.failure = Some(format!("{status} ({reason})"));
                None
            }
            Ok(wait::Outcome::Hung) => {
                self.hangs += 1;
                if self.hangs >= MAX_HANGS {
                    self.failure = Some(format!(
                        "hung {} times (killed after {} s each)",
                        self.hangs,
                        HANG_TIMEOUT.as_secs()
                    ));
                }
                None
            }
            Err(e) => {
                self.failure = Some(e);
                None
            }
        }
    }
}

/// Runs the comparison at `place`; `runs` measured rounds after warm-up.
pub fn run(runs: Option<usize>, place: &Place) -> Result<(), String> {
    let runs = runs.unwrap_or(DEFAULT_RUNS);
    let vessel = match place {
        Place::Host => {
            packages::install_peer_runtimes();
            shell::run(&shell::cargo(), &["build", "--release", "-p", "vessel"])?;
            shell::root().join("target/release/vessel")
        }
        Place::Guest { vessel } => vessel.clone(),
    };
    let rootfs = shell::output(vessel.to_str().unwrap_or("vessel"), &["rootfs"])
        .ok_or("`vessel rootfs` failed: run it by hand to see why")?;
    let work = PathBuf::from(WORK_DIR);
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| format!("clean {WORK_DIR}: {e}"))?;
    }
    let cgroups = PeerCgroups::prepare();
    let hardened = bundle::write(
        &work.join("bundle"),
        Path::new(rootfs.trim()),
        cgroups.path(),
        Hardening::DockerDefaults,
    )?;
    let bare = bundle::write(
        &work.join("bundle-no-hardening"),
        Path::new(rootfs.trim()),
        cgroups.path(),
        Hardening::Off,
    )?;
    let mut direct = floors();
    direct.extend(runtimes(&vessel, &hardened, &work, ""));
    for split in [Split::Start, Split::StartAndDelete, Split::FloorStart] {
        direct.push(vessel_split(&vessel, &hardened, &work, split)?);
    }
    direct.extend(runtimes(&vessel, &bare, &work, ", no hardening"));
    if let Place::Host = place {
        direct.extend(static_vessel_rows(&hardened, &work));
    }
    // On the host the CLI rows use vessel's default place for a container's cgroup (below
    // our own); in the VM our own is init's busy leaf, which v2 lets give no controllers.
    let cli_parent = match place {
        Place::Host => None,
        Place::Guest { .. } => cgroups.path().parent(),
    };
    let isolation_rows = bench_isolation::rows(&vessel, &levels(place), cli_parent);
    direct.extend(
        isolation_rows
            .into_iter()
            .map(|(name, argv)| Contender::new(name, argv)),
    );
    let traced = match place {
        Place::Guest { .. } => Some(trace_starts(&vessel, &hardened, cli_parent, &work)),
        Place::Host => None,
    };
    measure(&mut direct, runs);
    // podman's rows run in a phase of their own: a podman start takes ~0.25 s, and the
    // runtime start after such a pause is a cold one (issue 18's cold path, about twice a
    // warm one on v1), which would land on whichever direct row came next.
    let mut podman = match place {
        Place::Host => podman_rows(&vessel),
        Place::Guest { .. } => Vec::new(),
    };
    measure(&mut podman, runs);
    let mut contenders = direct;
    contenders.append(&mut podman);
    let rss = PeakRss::new(&work);
    if let Some(rss) = &rss {
        peak_rss_rounds(&mut contenders, rss);
    }
    cgroups.remove_created();
    let _ = fs::remove_dir_all(&work);
    let mut table = table(&contenders, runs, rss.is_some());
    if let Place::Guest { .. } = place {
        table.push_str(&guest_notes(traced));
        println!("{TABLE_BEGIN}\n{table}{TABLE_END}");
        return Ok(());
    }
    println!("{table}");
    let report = shell::root().join("target/bench-peers.md");
    fs::write(&report, &table).map_err(|e| format!("write {}: {e}", report.display()))?;
    println!("xtask: table written to {}", report.display());
    Ok(())
}

/// The isolation levels with a row at `place`: all three on the host, no bridge in
/// the VM (it has no veth module and no nft to wire one up).
fn levels(place: &Place) -> Vec<Isolation> {
    Isolation::ALL
        .into_iter()
        .filter(|level| *place == Place::Host || *level != Isolation::Bridge)
        .collect()
}

/// One start of the hardened bundle and one of `vessel run` at the default isolation
/// level under strace, before the timed rounds: on cgroup v2 each must be born in its
/// cgroup and never migrated (see [`clone_trace`]).
fn trace_starts(
    vessel: &Path,
    bundle: &Path,
    cli_parent: Option<&Path>,
    work: &Path,
) -> Result<String, String> {
    let run_bundle = vec![
        vessel.display().to_string(),
        "run".into(),
        "--bundle".into(),
        bundle.display().to_string(),
        "traced-start".into(),
    ];
    let run_cli: Vec<String> = Isolation::Default
        .argv(vessel, cli_parent)
        .into_iter()
        .map(|a| a.replace("{id}", "traced-cli"))
        .collect();
    let mut out = String::new();
    for (what, argv) in [
        ("the hardened bundle", run_bundle),
        ("`vessel run`, isolation default", run_cli),
    ] {
        let verdict = clone_trace::trace(&argv, &work.join("strace.txt"))?;
        out.push_str(&format!(
            "One start of {what} under `strace -f -y -e trace=clone3,write`: {}",
            verdict.report()
        ));
    }
    Ok(out)
}

/// What the VM's table says beyond the host's: the place, and the traced start.
fn guest_notes(traced: Option<Result<String, String>>) -> String {
    let mut notes = String::from(
        "\nIn the cgroup-v2 VM (qemu; TCG unless KVM worked): read the ratios, not the \
         absolute times. No podman rows (podman is not in the guest) and no bridge row \
         (the guest has no veth module and no nft).\n\n",
    );
    match traced {
        Some(Ok(text)) => notes.push_str(&text),
        Some(Err(why)) => notes.push_str(&format!("The traced start failed: {why}\n")),
        None => {}
    }
    notes
}

/// Runs every contender once per round, warm-up rounds first, in a new order each round.
///
/// A fixed order (even rotated) gives each row the same predecessor every round, and a
/// start after a slow or hung row pays a cold start: the shuffle spreads that cost over
/// all rows instead of charging it to one.
fn measure(contenders: &mut [Contender], runs: usize) {
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    let mut shuffle = Shuffle::seeded(0x5eed_0fbe_9c00);
    for round in 0..WARM_UP_ROUNDS + runs {
        shuffle.permute(&mut order);
        for &index in &order {
            let contender = &mut contenders[index];
            if contender.failure.is_some() {
                continue;
            }
            let id = format!("{}-{round}", contender.id_base());
            if let Some(elapsed) = contender.run_once(&id, None)
                && round >= WARM_UP_ROUNDS
            {
                contender.samples.push(elapsed);
            }
        }
    }
}

/// Peak RSS in rounds of their own after the timed ones, so the timed starts run unwrapped.
fn peak_rss_rounds(contenders: &mut [Contender], rss: &PeakRss) {
    for round in 0..RSS_ROUNDS {
        for contender in contenders.iter_mut().filter(|c| c.failure.is_none()) {
            let id = format!("{}-rss-{round}", contender.id_base());
            let _ = rss.take();
            if contender.run_once(&id, Some(rss)).is_some()
                && let Some(peak) = rss.take()
            {
                contender.peaks.push(peak);
            }
        }
    }
}

/// Fisher–Yates driven by xorshift64: a fixed seed, so two runs use the same orders and
/// stay comparable, without a dependency for a dozen swaps per round.
struct Shuffle(u64);

impl Shuffle {
    fn seeded(seed: u64) -> Shuffle {
        Shuffle(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn permute(&mut self, items: &mut [usize]) {
        for last in (1..items.len()).rev() {
            let pick = (self.next() % (last as u64 + 1)) as usize;
            items.swap(last, pick);
        }
    }
}

/// Starting a static `true` at all, and in the same namespaces with `unshare(1)`.
fn floors() -> Vec<Contender> {
    let busybox = "/bin/busybox".to_owned();
    vec![
        Contender::new("floor: exec true", vec![busybox.clone(), "true".into()]),
        Contender::new(
            "floor: unshare -pmuinC true",
            [
                "unshare", "-p", "-m", "-u", "-i", "-n", "-C", "--fork", &busybox, "true",
            ]
            .map(str::to_owned)
            .to_vec(),
        ),
    ]
}

/// vessel, runc, crun and youki on `bundle`, their names followed by `suffix`.
fn runtimes(vessel: &Path, bundle: &Path, work: &Path, suffix: &str) -> Vec<Contender> {
    let bundle = bundle.display().to_string();
    let mut all = vec![Contender::new(
        &format!("vessel{suffix}"),
        vec![
            vessel.display().to_string(),
            "run".into(),
            "--bundle".into(),
            bundle.clone(),
            "{id}".into(),
        ],
    )];
    for runtime in ["runc", "crun", "youki"] {
        let name = format!("{runtime}{suffix}");
        let Some(program) = packages::find_program(runtime) else {
            let mut missing = Contender::new(&name, Vec::new());
            missing.failure = Some("not installed, and installing it failed".into());
            all.push(missing);
            continue;
        };
        let state = work.join("state").join(runtime).display().to_string();
        let program = program.display().to_string();
        let mut contender = Contender::new(
            &name,
            vec![
                program.clone(),
                "--root".into(),
                state.clone(),
                "run".into(),
                "--bundle".into(),
                bundle.clone(),
                "{id}".into(),
            ],
        );
        contender.cleanup = Some(vec![
            program,
            "--root".into(),
            state,
            "delete".into(),
            "--force".into(),
            "{id}".into(),
        ]);
        all.push(contender);
    }
    all
}

/// The same vessel built static-pie (glibc linked in, no dynamic loader: what the VM
/// runs) starting the hardened bundle, whole and split: what a vessel process's own
/// start costs in dynamic loading, measured beside the normal build.
fn static_vessel_rows(bundle: &Path, work: &Path) -> Vec<Contender> {
    const NAME: &str = "vessel, static-pie build";
    let built =
        crate::vm::build::cargo_static("build", &["--release", "-p", "vessel", "--bin", "vessel"]);
    let vessel = match built.and_then(|b| b.get("vessel").map(Path::to_owned)) {
        Ok(vessel) => vessel,
        Err(reason) => {
            let mut missing = Contender::new(NAME, Vec::new());
            missing.failure = Some(reason);
            return vec![missing];
        }
    };
    let bundle_arg = bundle.display().to_string();
    let run = Contender::new(
        NAME,
        vec![
            vessel.display().to_string(),
            "run".into(),
            "--bundle".into(),
            bundle_arg,
            "{id}".into(),
        ],
    );
    let mut rows = vec![run];
    match vessel_split(&vessel, bundle, &work.join("static"), Split::Start) {
        Ok(mut split) => {
            split.name = format!("{NAME}, create+start");
            rows.push(split);
        }
        Err(reason) => {
            let mut missing = Contender::new(&format!("{NAME}, create+start"), Vec::new());
            missing.failure = Some(reason);
            rows.push(missing);
        }
    }
    rows
}

/// vessel's OCI split on `bundle`: `create`, then what `split` says is timed after it.
fn vessel_split(
    vessel: &Path,
    bundle: &Path,
    work: &Path,
    split: Split,
) -> Result<Contender, String> {
    let root = work.join("state").join("vessel-oci");
    fs::create_dir_all(&root).map_err(|e| format!("create {}: {e}", root.display()))?;
    let name = match split {
        Split::Start => "vessel create+start",
        Split::StartAndDelete => "vessel create+start+delete",
        Split::FloorStart => "floor: vessel create + a shell's start",
    };
    let mut contender = Contender::launching(
        name,
        Launch::CreateStart {
            vessel: vessel.to_owned(),
            root: root.clone(),
            bundle: bundle.to_owned(),
            split,
        },
    );
    if split != Split::StartAndDelete {
        let root = root.display().to_string();
        let delete = [vessel.display().to_string(), "--root".into(), root];
        contender.cleanup = Some(
            delete
                .into_iter()
                .chain(["delete", "--force", "{id}"].map(str::to_owned))
                .collect(),
        );
    }
    Ok(contender)
}

/// `podman --runtime X run --rm IMAGE true` for vessel and each peer, each podman with
/// its own state, config and imported image (the client tests' harness).
fn podman_rows(vessel: &Path) -> Vec<Contender> {
    let mut programs = vec![("vessel", Some(vessel.to_owned()))];
    programs.extend(["runc", "crun", "youki"].map(|r| (r, packages::find_program(r))));
    programs
        .into_iter()
        .map(|(runtime, program)| {
            let name = format!("podman → {runtime}");
            let podman = program
                .ok_or_else(|| format!("{runtime} is not installed"))
                .and_then(|p| vessel_clients::podman::Podman::new(&p).map_err(|s| s.0));
            match podman {
                Ok(podman) => Contender::launching(
                    &name,
                    Launch::Built(Box::new(move |_id| {
                        podman.command(&["run", "--rm", vessel_clients::podman::IMAGE, "true"])
                    })),
                ),
                Err(reason) => {
                    let mut missing = Contender::new(&name, Vec::new());
                    missing.failure = Some(reason);
                    missing
                }
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// The median peak RSS of `peaks` (KiB) as MiB, or `–`.
fn peak_rss(peaks: &[u64]) -> String {
    let mut sorted = peaks.to_vec();
    sorted.sort_unstable();
    match sorted.get((sorted.len().max(1) - 1) / 2) {
        Some(kib) => format!("{:.1} MiB", *kib as f64 / 1024.0),
        None => "–".to_owned(),
    }
}

fn table(contenders: &[Contender], runs: usize, measured_rss: bool) -> String {
    let medians: Vec<Option<Duration>> = contenders
        .iter()
        .map(|c| {
            let mut s = c.samples.clone();
            s.sort();
            (!s.is_empty()).then(|| percentile(&s, 0.5))
        })
        .collect();
    let vessel_median = contenders
        .iter()
        .zip(&medians)
        .find(|(c, _)| c.name == "vessel")
        .and_then(|(_, m)| *m);
    let mut out = format!(
        "Start-up of one OCI bundle (/bin/true; pid, net, ipc, uts, mount, cgroup namespaces; \
         cgroup with memory and pids limits; docker's capabilities, seccomp profile, masked paths \
         and device cgroup unless the row says \"no hardening\"), {runs} interleaved runs each after {WARM_UP_ROUNDS} \
         warm-up rounds. \"vessel create+start\" is the OCI split a client drives (create, start, \
         wait for the exit; delete after the clock stops), \"+delete\" the same with delete \
         timed, \"floor: vessel create + a shell's start\" the split with `sh` writing the byte to \
         the init's exec fifo in place of `vessel start` (the least any start can cost: one process, \
         no vessel in it); \"vessel run, isolation: …\" is `vessel run --rm OPTIONS -- /bin/true` \
         on vessel's default rootfs (none: `--ns mnt --privileged`; default: `--network none -m \
         256m --pids-limit 64`; bridge: the same with `--network bridge`); \"podman → X\" is `podman --runtime X run --rm IMAGE true` (podman's own \
         configuration: its namespaces, mounts and hardening, not the bundle's). Peak RSS: the \
         median over {RSS_ROUNDS} more rounds under GNU time of `ru_maxrss`, the largest \
         single process of the start that was waited for (not a sum; podman's conmon and \
         the runtime under it are not counted in the podman rows).\n\n\
         | runtime | median | p90 | × vessel | peak RSS |\n|---|---:|---:|---:|---:|\n"
    );
    let mut notes = String::new();
    if !measured_rss {
        notes.push_str(
            "- no peak RSS: GNU time (/usr/bin/time, Debian's `time`) is not installed\n",
        );
    }
    for (contender, median) in contenders.iter().zip(&medians) {
        if let Some(failure) = &contender.failure {
            out.push_str(&format!("| {} | – | – | – | – |\n", contender.name));
            notes.push_str(&format!(
                "- {} could not run here: {failure}\n",
                contender.name
            ));
            continue;
        }
        let mut sorted = contender.samples.clone();
        sorted.sort();
        let (Some(median), p90) = (*median, percentile(&sorted, 0.9)) else {
            continue;
        };
        if contender.hangs > 0 {
            notes.push_str(&format!(
                "- {} hung in {} of its runs (killed after {} s; not counted)\n",
                contender.name,
                contender.hangs,
                HANG_TIMEOUT.as_secs()
            ));
        }
        let ratio = vessel_median
            .map(|v| format!("{:.2}", median.as_secs_f64() / v.as_secs_f64()))
            .unwrap_or_else(|| "–".into());
        out.push_str(&format!(
            "| {} | {} | {} | {ratio} | {} |\n",
            contender.name,
            criterion_output::human(median.as_nanos() as f64),
            criterion_output::human(p90.as_nanos() as f64),
            peak_rss(&contender.peaks),
        ));
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Isolation, Place, Shuffle, levels};

    #[test]
    fn every_level_on_the_host_and_no_bridge_in_the_vm() {
        assert_eq!(levels(&Place::Host), Isolation::ALL);
        let guest = Place::Guest {
            vessel: "/usr/local/bin/vessel".into(),
        };
        assert_eq!(levels(&guest), [Isolation::None, Isolation::Default]);
    }

    #[test]
    fn each_round_is_a_permutation_and_predecessors_change() {
        let mut shuffle = Shuffle::seeded(0x5eed_0fbe_9c00);
        let mut order: Vec<usize> = (0..12).collect();
        let mut predecessors_of_first_row = std::collections::BTreeSet::new();
        for _ in 0..30 {
            shuffle.permute(&mut order);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..12).collect::<Vec<_>>(), "not a permutation");
            let at = order.iter().position(|&i| i == 0).unwrap();
            predecessors_of_first_row.insert(at.checked_sub(1).map(|p| order[p]));
        }
        assert!(
            predecessors_of_first_row.len() > 5,
            "row 0 followed only {predecessors_of_first_row:?}: the order does not mix"
        );
    }
}
