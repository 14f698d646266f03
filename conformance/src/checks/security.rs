//! What an attacker tries from a default container (no flags), one check per class of
//! escape in issue 14 and per docker default: host-wide kernel knobs, masked paths, the
//! caller's terminal and descriptors, devices, seccomp, keyrings, and host-side path
//! resolution through the image's own symlinks. The probe's attacks never change the
//! host when they succeed (see `probe/src/attacks.rs`); the checks only judge them.

use std::fs;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use vessel::rootfs::volume::Volume;

use super::support::{int, report_of};
use crate::check::{Check, Ctx, Failure, Needs, Outcome, ensure};
use crate::docker_defaults::MASKED_PATHS;
use crate::keyring;
use crate::pty::Pty;
use crate::runtime::{Finished, Request, vessel::unique_name, vessel_cli};

pub const CHECKS: [Check; 15] = [
    Check {
        area: "security",
        name: "proc-sys-read-only",
        claim: "Root inside cannot open a host-wide sysctl (core_pattern, modprobe, …) for writing: /proc/sys is a read-only mount.",
        needs: &[],
        run: proc_sys_read_only,
    },
    Check {
        area: "security",
        name: "proc-sysrq-trigger-read-only",
        claim: "Root inside cannot open /proc/sysrq-trigger for writing: it is a read-only mount.",
        needs: &[],
        run: proc_sysrq_trigger_read_only,
    },
    Check {
        area: "security",
        name: "proc-paths-read-only",
        claim: "/proc/irq, /proc/bus and /proc/fs are read-only mounts inside (where the host has them).",
        needs: &[],
        run: proc_paths_read_only,
    },
    Check {
        area: "security",
        name: "masked-paths",
        claim: "docker's masked paths (/proc/kcore, /proc/keys, /proc/timer_list, /proc/sched_debug, /proc/scsi, /proc/acpi, /sys/firmware, …) read nothing inside: empty files and empty directories.",
        needs: &[],
        run: masked_paths,
    },
    Check {
        area: "security",
        name: "no-controlling-terminal",
        claim: "A container started from a shell's terminal is in a session of its own, has no controlling terminal, and TIOCSTI on that terminal is refused: nothing reaches the caller's input.",
        needs: &[],
        run: no_controlling_terminal,
    },
    Check {
        area: "security",
        name: "no-inherited-fds",
        claim: "A descriptor the caller left open (not close-on-exec) on a host directory does not reach the container: only stdin, stdout and stderr cross.",
        needs: &[],
        run: no_inherited_fds,
    },
    Check {
        area: "security",
        name: "device-cgroup",
        claim: "Device nodes root inside makes (kvm, kmsg, mem, loop0) cannot be opened: EPERM from the device cgroup; /dev/null still works.",
        needs: &[],
        run: device_cgroup,
    },
    Check {
        area: "security",
        name: "seccomp-filter-on",
        claim: "The container runs under a seccomp filter: Seccomp is 2 in /proc/self/status.",
        needs: &[],
        run: seccomp_filter_on,
    },
    Check {
        area: "security",
        name: "seccomp-blocks-keyctl",
        claim: "docker's seccomp profile is in force: a raw keyctl syscall gives EPERM and unshare(CLONE_NEWUSER) is refused.",
        needs: &[],
        run: seccomp_blocks_keyctl,
    },
    Check {
        area: "security",
        name: "session-keyring-private",
        claim: "The container's session keyring is not its caller's: a key it plants never shows up in the caller's session keyring.",
        needs: &[],
        run: session_keyring_private,
    },
    Check {
        area: "security",
        name: "dev-symlink-in-image",
        claim: "A rootfs whose /dev is a symlink out of it (absolute, or relative with ..) makes the runtime create nothing outside the rootfs; the run works or fails cleanly.",
        needs: &[],
        run: dev_symlink_in_image,
    },
    Check {
        area: "security",
        name: "volume-target-symlink",
        claim: "A volume whose container-side parent is a symlink out of the rootfs makes the runtime create nothing outside the rootfs.",
        needs: &[],
        run: volume_target_symlink,
    },
    Check {
        area: "security",
        name: "commit-of-changing-container",
        claim: "Committing a running container that swaps a directory for a symlink to a host directory never packs the host's files into the layer.",
        needs: &[Needs::VesselApi, Needs::Overlay],
        run: commit_of_changing_container,
    },
    Check {
        area: "security",
        name: "userns-own-writable-layer",
        claim: "A --userns container of the default image writes into a writable layer of its own: a file it writes is not seen by the next one.",
        needs: &[Needs::VesselApi, Needs::UserNamespaces],
        run: userns_own_writable_layer,
    },
    Check {
        area: "security",
        name: "core-pattern-escape-blocked",
        claim: "No way to core_pattern is open to root inside (the path, /proc/self/root, /proc/1/root, a remount or unmount of /proc/sys, a fresh proc): the kernel cannot be made to run a program on the host.",
        needs: &[],
        run: core_pattern_escape_blocked,
    },
];

/// Every line of `kind` the probe printed.
fn lines<'a>(finished: &'a Finished, kind: &str) -> Vec<&'a Value> {
    finished
        .lines
        .iter()
        .filter(|v| v["kind"] == kind)
        .collect()
}

/// Runs the probe with `args` to the end.
fn probe(ctx: &Ctx, args: &[&str]) -> Result<Finished, String> {
    ctx.runtime.run(ctx.world, &Request::probe(args))
}

/// Fails naming every `open_wronly` line whose open succeeded, and every `read_only`
/// line for a path that exists but is not on a read-only mount.
fn judge_knobs(finished: &Finished) -> Outcome {
    let mut wrong = Vec::new();
    for line in lines(finished, "open_wronly") {
        if int(line, "errno")? == 0 {
            wrong.push(format!("{} opened for writing", line["path"]));
        }
    }
    for line in lines(finished, "read_only") {
        let errno = int(line, "errno")?;
        if errno == 0 && line["read_only"] != true {
            wrong.push(format!("{} is on a writable mount", line["path"]));
        } else if errno != 0 && errno != i64::from(libc::ENOENT) {
            wrong.push(format!("statvfs {} gave errno {errno}", line["path"]));
        }
    }
    ensure(wrong.is_empty(), || wrong.join("; "))
}

fn proc_sys_read_only(ctx: &Ctx) -> Outcome {
    let finished = probe(
        ctx,
        &[
            "open-wronly",
            "/proc/sys/kernel/core_pattern",
            "open-wronly",
            "/proc/sys/kernel/modprobe",
            "open-wronly",
            "/proc/sys/vm/panic_on_oom",
            "read-only",
            "/proc/sys",
            "read-only",
            "/proc/sys/kernel",
        ],
    )?;
    ensure(!lines(&finished, "open_wronly").is_empty(), || {
        format!("the probe reported nothing: {}", finished.stderr.trim())
    })?;
    judge_knobs(&finished)
}

fn proc_sysrq_trigger_read_only(ctx: &Ctx) -> Outcome {
    if !Path::new("/proc/sysrq-trigger").exists() {
        return Err(Failure::Skip(
            "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off): nothing to protect"
                .to_owned(),
        ));
    }
    let finished = probe(
        ctx,
        &[
            "open-wronly",
            "/proc/sysrq-trigger",
            "read-only",
            "/proc/sysrq-trigger",
        ],
    )?;
    finished.line("open_wronly")?;
    judge_knobs(&finished)
}

fn proc_paths_read_only(ctx: &Ctx) -> Outcome {
    let finished = probe(
        ctx,
        &[
            "read-only",
            "/proc/irq",
            "read-only",
            "/proc/bus",
            "read-only",
            "/proc/fs",
            "open-wronly",
            "/proc/irq/default_smp_affinity",
        ],
    )?;
    finished.line("read_only")?;
    // A file the host lacks cannot be opened at all: ENOENT is not a refusal to judge.
    judge_knobs(&finished)
}

fn masked_paths(ctx: &Ctx) -> Outcome {
    let mut args = Vec::new();
    for path in MASKED_PATHS {
        args.extend(["peek", path]);
    }
    let finished = probe(ctx, &args)?;
    let mut shown = Vec::new();
    for line in lines(&finished, "peek") {
        let errno = int(line, "errno")?;
        let path = line["path"].as_str().unwrap_or_default();
        if errno == i64::from(libc::ENOENT) {
            continue; // not on this kernel: nothing to show
        }
        if errno != 0 {
            shown.push(format!("{path} is there, unmasked (errno {errno})"));
        } else if line["dir"] == true {
            let entries = line["entries"].as_array().map_or(0, Vec::len);
            if entries > 0 {
                shown.push(format!("{path} lists {}", line["entries"]));
            }
        } else if int(line, "bytes")? > 0 {
            shown.push(format!("{path} reads {} bytes", line["bytes"]));
        }
    }
    ensure(lines(&finished, "peek").len() == MASKED_PATHS.len(), || {
        format!(
            "the probe did not look at every path: {}",
            finished.stderr.trim()
        )
    })?;
    ensure(shown.is_empty(), || shown.join("; "))
}

fn no_controlling_terminal(ctx: &Ctx) -> Outcome {
    let pty = Pty::open()?;
    let slave = pty
        .slave
        .try_clone()
        .map_err(|e| format!("duplicate the pty slave: {e}"))?;
    let mut request = Request::probe(&["tiocsti"]);
    request.controlling_tty = Some(Arc::new(slave));
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let line = finished.line("tiocsti")?;
    let (sid, pid, tty_nr, errno) = (
        int(line, "sid")?,
        int(line, "pid")?,
        int(line, "tty_nr")?,
        int(line, "errno")?,
    );
    let pushed = pty.pending_input()?;
    let echoed = pty.master_output(200)?;
    let mut wrong = Vec::new();
    if sid != pid {
        wrong.push(format!(
            "the container (pid {pid} inside) is in session {sid}, not its own (0: a session led from outside, the caller's)"
        ));
    }
    if tty_nr != 0 {
        wrong.push(format!(
            "it has a controlling terminal (tty_nr {tty_nr}): the caller's"
        ));
    }
    if errno == 0 {
        wrong.push("TIOCSTI on its stdin was accepted".to_owned());
    }
    if pushed > 0 || !echoed.is_empty() {
        wrong.push(format!(
            "{pushed} byte(s) arrived in the caller's terminal input, {:?} echoed on the master",
            String::from_utf8_lossy(&echoed)
        ));
    }
    ensure(wrong.is_empty(), || wrong.join("; "))
}

fn no_inherited_fds(ctx: &Ctx) -> Outcome {
    let dir = ctx.world.scratch("security-fds")?;
    let marker = "fd-marker";
    fs::write(
        dir.join(marker),
        "the host's directory, through an inherited fd\n",
    )
    .map_err(|e| format!("write the marker: {e}"))?;
    let path = std::ffi::CString::new(dir.display().to_string()).map_err(|e| e.to_string())?;
    // Deliberately without O_CLOEXEC: the caller forgot, as `exec 7</etc` in a shell.
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    if fd < 0 {
        return Err(format!(
            "open {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        )
        .into());
    }
    // SAFETY: `fd` was just opened here and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let finished = probe(ctx, &["fds", marker]);
    drop(fd);
    let finished = finished?;
    let line = finished.line("fds")?;
    let strings = |field: &str| -> Vec<String> {
        line[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (open, read) = (strings("open"), strings("read"));
    ensure(read.is_empty(), || {
        format!(
            "the container read the host's marker through an inherited fd: {read:?} (open: {open:?})"
        )
    })?;
    ensure(open.is_empty(), || {
        format!("descriptors above stderr reached the container: {open:?}")
    })
}

fn device_cgroup(ctx: &Ctx) -> Outcome {
    // A copy of the rootfs: the nodes are made in its /tmp (not a nodev mount).
    let rootfs = ctx.world.rootfs_copy("security-devices")?;
    let forbidden = [
        ("/tmp/kvm", "c", "10", "232", "rw"),
        ("/tmp/kmsg", "c", "1", "11", "w"),
        ("/tmp/mem", "c", "1", "1", "r"),
        ("/tmp/loop0", "b", "7", "0", "r"),
    ];
    let mut args = Vec::new();
    for (path, kind, major, minor, access) in forbidden {
        args.extend(["device", path, kind, major, minor, access]);
    }
    args.extend(["device", "/tmp/null", "c", "1", "3", "rw"]);
    args.extend(["device", "/dev/null", "c", "1", "3", "rw"]);
    let mut request = Request::probe(&args);
    request.rootfs = Some(rootfs);
    let finished = ctx.runtime.run(ctx.world, &request)?;
    let answers = lines(&finished, "device");
    ensure(answers.len() == forbidden.len() + 2, || {
        format!(
            "the probe tried only {} devices: {}",
            answers.len(),
            finished.stderr.trim()
        )
    })?;
    let mut opened = Vec::new();
    let mut refused = 0;
    for line in &answers[..forbidden.len()] {
        match int(line, "open_errno")? {
            0 => opened.push(format!("{} ({})", line["path"], line["device"])),
            e if e == i64::from(libc::EPERM) => refused += 1,
            _ => {}
        }
    }
    ensure(opened.is_empty(), || {
        format!("root inside made and opened {}", opened.join(", "))
    })?;
    ensure(refused > 0, || {
        format!("no forbidden device was refused with EPERM: {answers:?}")
    })?;
    for line in &answers[forbidden.len()..] {
        ensure(int(line, "open_errno")? == 0, || {
            format!("{} (c 1:3) cannot be opened: {line}", line["path"])
        })?;
    }
    Ok(())
}

fn seccomp_filter_on(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    let mode = report
        .status
        .get("Seccomp")
        .map_or("absent", String::as_str);
    ensure(mode == "2", || {
        format!("Seccomp is {mode} in /proc/self/status, not 2 (filter)")
    })
}

fn seccomp_blocks_keyctl(ctx: &Ctx) -> Outcome {
    let finished = probe(ctx, &["syscalls"])?;
    let line = finished.line("syscalls")?;
    let keyctl = int(line, "keyctl_errno")?;
    let unshare = int(line, "unshare_userns_errno")?;
    ensure(keyctl == i64::from(libc::EPERM), || {
        format!(
            "keyctl(GET_KEYRING_ID) gave errno {keyctl} (0: allowed, session keyring {}), not EPERM",
            line["session_keyring"]
        )
    })?;
    ensure(unshare != 0, || {
        "unshare(CLONE_NEWUSER) succeeded inside".to_owned()
    })
}

fn session_keyring_private(ctx: &Ctx) -> Outcome {
    // A session keyring of our own first, as a login session has: without one, both
    // sides would only meet in the user's default session keyring, which `add_key`
    // replaces with a fresh one on first use.
    keyring::join_new_session(&unique_name("vessel-conformance-caller"))?;
    let ours = keyring::own_session_keyring()?;
    let description = unique_name("vessel-conformance-key");
    let finished = probe(ctx, &["syscalls", "add-key", &description])?;
    if let Some(serial) = keyring::find_in_own_session(&description) {
        keyring::invalidate(serial);
        return Err(format!(
            "the key {description} the container added is in the caller's session keyring (serial {serial}; removed again)"
        )
        .into());
    }
    let line = finished.line("syscalls")?;
    let theirs = int(line, "session_keyring")?;
    ensure(theirs != ours, || {
        format!("the container's session keyring is the caller's ({ours})")
    })?;
    // The plant was refused (seccomp) or went to a keyring of the container's own.
    finished.line("add_key").map(|_| ()).map_err(Into::into)
}

/// `depth` `../` then `target` without its leading `/`: a relative symlink that climbs
/// out of any rootfs shallower than `depth` and lands on `target`.
fn climbing(target: &Path, depth: usize) -> PathBuf {
    let mut path = PathBuf::new();
    for _ in 0..depth {
        path.push("..");
    }
    path.join(target.strip_prefix("/").unwrap_or(target))
}

/// A host directory with one marker file, and what else it holds later.
struct HostTarget {
    dir: PathBuf,
}

impl HostTarget {
    const MARKER: &'static str = "host-marker";

    fn new(ctx: &Ctx, name: &str) -> Result<HostTarget, String> {
        let dir = ctx.world.scratch(name)?;
        fs::write(dir.join(Self::MARKER), "the host's\n").map_err(|e| e.to_string())?;
        Ok(HostTarget { dir })
    }

    /// Fails if anything but the marker appeared in it.
    fn untouched(&self, what: &str) -> Outcome {
        let extra: Vec<String> = fs::read_dir(&self.dir)
            .map_err(|e| format!("read {}: {e}", self.dir.display()))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name != Self::MARKER)
            .collect();
        ensure(extra.is_empty(), || {
            format!(
                "{what}: the runtime created {extra:?} in the host directory {} outside the rootfs",
                self.dir.display()
            )
        })
    }
}

/// The three ways a symlink in the image can point out of it: an absolute path, a
/// relative one that climbs with `..`, and the magic link `/proc/self/cwd` (the
/// runtime's own working directory, which the check makes the host directory).
const ESCAPES: [&str; 3] = ["absolute", "relative", "magic"];

/// The symlink target for `variant`, pointing at `target`.
fn escape_link(variant: &str, target: &Path) -> PathBuf {
    match variant {
        "absolute" => target.to_owned(),
        "relative" => climbing(target, 16),
        _ => PathBuf::from("/proc/self/cwd"),
    }
}

/// Runs `f` with the process's working directory at `dir` (the runtime inherits it),
/// then goes back. The runner runs one check at a time, so nothing else depends on the
/// working directory meanwhile; every path the suite uses is absolute.
fn in_directory<T>(dir: &Path, f: impl FnOnce() -> T) -> Result<T, String> {
    let before = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    std::env::set_current_dir(dir).map_err(|e| format!("chdir {}: {e}", dir.display()))?;
    let result = f();
    std::env::set_current_dir(&before)
        .map_err(|e| format!("chdir back to {}: {e}", before.display()))?;
    Ok(result)
}

/// How a run went, for a failure message.
fn how(run: &Result<Finished, String>) -> String {
    match run {
        Ok(f) => format!("exited {}", f.code),
        Err(e) => format!("failed: {e}"),
    }
}

fn dev_symlink_in_image(ctx: &Ctx) -> Outcome {
    for variant in ESCAPES {
        let target = HostTarget::new(ctx, &format!("dev-target-{variant}"))?;
        let rootfs = ctx.world.rootfs_copy(&format!("dev-symlink-{variant}"))?;
        let dev = rootfs.join("dev");
        let _ = fs::remove_dir_all(&dev);
        let link = escape_link(variant, &target.dir);
        std::os::unix::fs::symlink(&link, &dev).map_err(|e| format!("symlink /dev: {e}"))?;
        let mut request = Request::probe(&["report"]);
        request.rootfs = Some(rootfs);
        // Working or failing are both fine; writing outside the rootfs is not.
        let run = in_directory(&target.dir, || ctx.runtime.run(ctx.world, &request))?;
        target.untouched(&format!(
            "/dev -> {} ({variant}; the run {})",
            link.display(),
            how(&run)
        ))?;
    }
    Ok(())
}

/// Swaps `a` and `b` (`renameat2(RENAME_EXCHANGE)`) in a tight loop on a thread until
/// the returned guard is dropped: another container sharing the rootfs, doing so.
struct Swapper {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Swapper {
    fn start(a: &Path, b: &Path) -> Result<Swapper, String> {
        use std::os::unix::ffi::OsStrExt;
        let c =
            |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|e| e.to_string());
        let (a, b) = (c(a)?, c(b)?);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: both names are NUL-terminated and live as long as the thread.
                unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
            }
        });
        Ok(Swapper {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How many containers the volume race starts per variant.
const VOLUME_RACE_RUNS: usize = 12;

fn volume_target_symlink(ctx: &Ctx) -> Outcome {
    let source = ctx.world.scratch("volume-source")?;
    fs::write(source.join("file"), "volume\n").map_err(|e| e.to_string())?;
    for variant in ESCAPES {
        let target = HostTarget::new(ctx, &format!("volume-target-{variant}"))?;
        let rootfs = ctx
            .world
            .rootfs_copy(&format!("volume-symlink-{variant}"))?;
        let link = escape_link(variant, &target.dir);
        // /conformance/out is a directory a moment, a symlink out of the rootfs the next:
        // a check of the path before the mount is not enough, only resolving it in the
        // rootfs when the mount point is made is.
        let (dir, symlink) = (
            rootfs.join("conformance/out"),
            rootfs.join("conformance/swap"),
        );
        fs::create_dir(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        std::os::unix::fs::symlink(&link, &symlink)
            .map_err(|e| format!("symlink {}: {e}", symlink.display()))?;
        let mut request = Request::probe(&["report"]);
        request.rootfs = Some(rootfs);
        request.volumes.push(Volume {
            host: source.clone(),
            container: PathBuf::from("/conformance/out/sub/dir"),
            read_only: false,
            attrs: 0,
        });
        let swapper = Swapper::start(&dir, &symlink)?;
        let mut runs = Vec::new();
        for _ in 0..VOLUME_RACE_RUNS {
            let run = in_directory(&target.dir, || ctx.runtime.run(ctx.world, &request))?;
            runs.push(how(&run));
            if target.untouched("").is_err() {
                break;
            }
        }
        drop(swapper);
        target.untouched(&format!(
            "volume at /conformance/out/sub/dir while /conformance/out turns into a symlink to {} and back ({variant}; {} runs: {})",
            link.display(),
            runs.len(),
            runs.join(", ")
        ))?;
    }
    Ok(())
}

fn core_pattern_escape_blocked(ctx: &Ctx) -> Outcome {
    let finished = probe(ctx, &["core-pattern"])?;
    let line = finished.line("core_pattern")?;
    let opened: Vec<&str> = line["opened"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure(opened.is_empty(), || {
        format!(
            "core_pattern opened for writing (never written) through {opened:?} (remount of /proc/sys: errno {}, unmount: errno {}, a fresh proc: errno {})",
            line["remount_errno"], line["umount_errno"], line["mount_proc_errno"]
        )
    })
}

/// An image store of the CLI's own in a scratch directory, holding the test rootfs as
/// the image `conformance`.
fn cli_store(ctx: &Ctx, name: &str) -> Result<PathBuf, String> {
    let root = ctx.world.scratch(name)?.join("root");
    let rootfs = ctx.world.rootfs.display().to_string();
    vessel_cli::run_ok(&root, &["image", "import", &rootfs, "conformance"])?;
    Ok(root)
}

/// Files in the container's swapped directory (and the host's).
const SWAP_FILES: usize = 300;
/// What every file in the host directory holds: never to be found in a layer.
const COMMIT_SECRET: &str = "the host's, never a layer's\n";

/// Every path below `dir` whose name is `name`, and every tar entry below it called
/// `name` or (with `content`) holding `content`.
fn find_marker(dir: &Path, name: &str, content: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if entry.file_name() == name {
                found.push(path.display().to_string());
            }
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && path.extension().is_some_and(|e| e == "tar") {
                let Ok(file) = fs::File::open(&path) else {
                    continue;
                };
                let mut archive = ::tar::Archive::new(file);
                let Ok(tar_entries) = archive.entries() else {
                    continue;
                };
                for mut tar_entry in tar_entries.flatten() {
                    let entry_path = tar_entry
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    let mut data = String::new();
                    let _ = std::io::Read::read_to_string(&mut tar_entry, &mut data);
                    let named = Path::new(&entry_path)
                        .file_name()
                        .is_some_and(|f| f == name);
                    if named || content.is_some_and(|c| !c.is_empty() && data.contains(c)) {
                        found.push(format!("{entry_path} in {}", path.display()));
                    }
                }
            }
        }
    }
    found
}

fn commit_of_changing_container(ctx: &Ctx) -> Outcome {
    let root = cli_store(ctx, "commit-race")?;
    // The host directory has the same names as the container's, so a walk that lists
    // one and opens the other finds every file and packs the host's content.
    let host = ctx.world.scratch("commit-race-host")?;
    for i in 0..SWAP_FILES {
        fs::write(host.join(format!("f{i}")), COMMIT_SECRET)
            .map_err(|e| format!("write {}: {e}", host.display()))?;
    }
    let name = unique_name("commit-race");
    // A directory with many entries (a long walk) and a symlink to the host directory,
    // swapped with RENAME_EXCHANGE in a tight loop for as long as the container runs.
    let script = format!(
        "mkdir -p /sw/d && i=0 && while [ $i -lt {SWAP_FILES} ]; do echo x > /sw/d/f$i; i=$((i+1)); done && \
         ln -s {} /sw/s && /vessel-probe swap-forever /sw/d /sw/s && exec sleep 600",
        host.display()
    );
    let parent = vessel_cli::cgroup_parent(ctx.world);
    vessel_cli::run_ok(
        &root,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "--image",
            "conformance",
            "--network",
            "none",
            "--cgroup-parent",
            &parent,
            "--",
            "/bin/sh",
            "-c",
            &script,
        ],
    )?;
    let outcome = commit_while_swapping(&root, &name);
    let removed = vessel_cli::run_ok(&root, &["rm", "-f", &name]);
    let _ = vessel_cli::run_ok(&root, &["container", "rm", &name]);
    outcome?;
    removed.map(|_| ()).map_err(Into::into)
}

/// Waits until the container swaps (its log says so), commits it ten times, and looks
/// for the host's marker in everything the store holds.
fn commit_while_swapping(root: &Path, name: &str) -> Outcome {
    use std::io::BufRead;
    // `logs -f` ends when the container does, so this read is bounded by its life.
    let mut follow = vessel_cli::command(root, &["logs", "-f", name])?
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("run vessel logs -f: {e}"))?;
    let stdout = follow.stdout.take().ok_or("no stdout")?;
    let swapping = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("swap_forever"));
    let _ = follow.kill();
    let _ = follow.wait();
    ensure(swapping, || {
        "the container ended before it started swapping".to_owned()
    })?;
    let mut committed = 0;
    let mut errors = Vec::new();
    for n in 0..10 {
        match vessel_cli::run_ok(root, &["commit", name, &format!("swapped-{n}")]) {
            Ok(_) => committed += 1,
            Err(e) => errors.push(e),
        }
    }
    let found = find_marker(root, HostTarget::MARKER, Some(COMMIT_SECRET));
    let shown: Vec<&String> = found.iter().take(3).collect();
    ensure(found.is_empty(), || {
        format!(
            "{committed} of 10 commits succeeded, and the host's files were packed into the image: {shown:?} ({} in all)",
            found.len()
        )
    })?;
    ensure(committed > 0, || {
        format!(
            "no commit of the running container succeeded: {}",
            errors.join("; ")
        )
    })
}

fn userns_own_writable_layer(ctx: &Ctx) -> Outcome {
    // The default image (vessel's built-in rootfs, built in this scratch root): layers
    // of an imported image are refused with --userns today.
    let root = ctx.world.scratch("userns-layer")?.join("root");
    let parent = vessel_cli::cgroup_parent(ctx.world);
    let run = |script: &str| {
        vessel_cli::command(
            &root,
            &[
                "run",
                "--rm",
                "--userns",
                "--network",
                "none",
                "--cgroup-parent",
                &parent,
                "--",
                "/bin/sh",
                "-c",
                script,
            ],
        )?
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("run vessel run --userns: {e}"))
    };
    let first = run("echo planted > /tmp/userns-planted && echo ok")?;
    ensure(first.status.success(), || {
        format!(
            "the first --userns container failed ({}): {}",
            first.status,
            String::from_utf8_lossy(&first.stderr).trim()
        )
    })?;
    let second = run("cat /tmp/userns-planted 2>/dev/null || echo absent")?;
    let seen = String::from_utf8_lossy(&second.stdout).trim().to_owned();
    let planted = find_marker(&root, "userns-planted", None);
    ensure(seen == "absent", || {
        format!(
            "the next --userns container of the same image read {seen:?} from the first one's /tmp (written into {planted:?})"
        )
    })?;
    ensure(planted.is_empty(), || {
        format!("the --rm'd container's file is still in the store: {planted:?}")
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::climbing;

    #[test]
    fn a_climbing_link_goes_up_then_down_to_the_target() {
        assert_eq!(
            climbing(Path::new("/var/tmp/x"), 3),
            PathBuf::from("../../../var/tmp/x")
        );
    }
}
