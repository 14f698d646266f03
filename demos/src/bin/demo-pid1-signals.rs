//! # Lesson: PID 1 and signals — why `stop` sometimes waits, and what `--init` fixes
//!
//! `vessel stop` (like `docker stop`) sends the container's first process SIGTERM, waits
//! a while, then sends SIGKILL. Whether SIGTERM does anything depends on what PID 1 is:
//!
//! * The kernel delivers to a PID namespace's init only the signals it has a handler
//!   for (SIGKILL from an ancestor namespace excepted). A shell running a shell-form
//!   `CMD` installs no SIGTERM handler, so the signal is dropped and stop waits for its
//!   timeout before SIGKILL ends the container.
//! * In the exec form the program itself is PID 1; a program that handles SIGTERM, as
//!   servers do, exits at once.
//! * `--init` puts a tiny init in front: it blocks the signals and reads them with
//!   `sigwaitinfo`, forwards them to the command (now PID 2, an ordinary process whose
//!   default action for SIGTERM is to die), and reaps the orphans every PID 1 inherits.
//!
//! The lesson runs each case with a 2 s stop timeout and reads the kernel's view of PID 1
//! from `/proc/PID/status` (`SigCgt`: the signals it has a handler for).

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use vessel::image::{self, Change, ContainerFs, Image, Store};
use vessel::process::pipe::Pipe;
use vessel::process::tenant::Tenant;
use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, ExitStatus, Stdio};
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-pid1-signals";

/// The stop timeout: how long SIGTERM gets before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The shell-form command: a loop, so the shell has to stay (a lone command would be
/// exec'd by busybox's sh in its place).
const LOOP: &str = "CMD echo ready; while :; do echo tick; sleep 1; done";

/// A tiny "server" that stops cleanly on SIGTERM. `wait` returns as soon as a trapped
/// signal arrives, so the trap runs at once.
const TICKER: &str = r#"#!/bin/sh
trap 'echo "ticker: SIGTERM, shutting down"; exit 0' TERM
echo ready
while :; do sleep 1 & wait $!; done
"#;

/// Run with `vessel exec` in a container whose PID 1 is `sleep`: the shell starts a
/// background `sleep` and exits, so that `sleep` is an orphan, re-parented to PID 1.
const ORPHAN: &str = "sleep 1000 & echo $!";

fn main() {
    Lesson::run(
        NAME,
        "PID 1 only gets the signals it handles: a shell ignores SIGTERM, an init forwards it and reaps zombies",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    let store = Store::open(scratch.join("store"))?;
    let base = store.image("base")?;

    lesson.step(&format!("the shell form: {LOOP}"));
    let mut shell = base.clone();
    image::apply_changes(&mut shell.config, &[Change::parse(LOOP)?]);
    lesson.see("stored CMD", format!("{:?}", shell.config.cmd));
    lesson.claim(
        "the shell form is stored as /bin/sh -c STRING",
        shell.config.cmd[..2] == ["/bin/sh", "-c"],
    );
    let mut case1 = Case::start(&store, &shell, "000000000001", false)?;
    let pid1 = case1.pid1();
    lesson.see("PID 1", pid1.describe());
    lesson.claim(
        "PID 1 is the shell, with no SIGTERM handler",
        pid1.command.starts_with("/bin/sh -c") && !pid1.catches(libc::SIGTERM),
    );
    lesson.syscall("pidfd_send_signal(SIGTERM); poll(pidfd, 2 s); pidfd_send_signal(SIGKILL)");
    let (status, by, _) = case1.stop()?;
    lesson.see("stop", format!("ended by {by}, {status}"));
    lesson.claim(
        "the kernel dropped SIGTERM: stop had to send SIGKILL after the timeout",
        by == "SIGKILL" && status == ExitStatus::Signaled(libc::SIGKILL),
    );

    lesson.step("the exec form: CMD [\"/usr/local/bin/ticker\"], a program that handles SIGTERM");
    let ticker = ticker_image(&store, &base)?;
    lesson.see("stored CMD", format!("{:?}", ticker.config.cmd));
    let mut case2 = Case::start(&store, &ticker, "000000000002", false)?;
    let pid1 = case2.pid1();
    lesson.see("PID 1", pid1.describe());
    lesson.claim(
        "PID 1 is the program itself, and it has a SIGTERM handler",
        pid1.command == "/bin/sh /usr/local/bin/ticker" && pid1.catches(libc::SIGTERM),
    );
    let (status, by, said) = case2.stop()?;
    let said = said.join(" | ");
    lesson.see("stop", format!("ended by {by}, {status}"));
    lesson.see("the program said", &said);
    lesson.claim(
        "SIGTERM reached the program: it exited at once, no SIGKILL",
        by == "SIGTERM" && status == ExitStatus::Exited(0) && said.contains("SIGTERM"),
    );

    lesson.step("--init with the same shell form");
    lesson.syscall("bind /sbin/vessel-init read-only; execve(\"/sbin/vessel-init\", [\"--\", \"/bin/sh\", \"-c\", …])");
    let mut case3 = Case::start(&store, &shell, "000000000003", true)?;
    let pid1 = case3.pid1();
    let child = case3
        .children_of_pid1()?
        .first()
        .map(|&pid| ProcessView::read(pid))
        .ok_or("vessel-init has no child")??;
    lesson.see("PID 1", pid1.describe());
    lesson.see("its child", child.describe());
    lesson.claim(
        "PID 1 is vessel-init, and it has no SIGTERM handler either: it blocks SIGTERM and reads it with sigwaitinfo",
        pid1.command.starts_with("/sbin/vessel-init -- /bin/sh -c")
            && !pid1.catches(libc::SIGTERM)
            && child.inner_pid == "2",
    );
    let (status, by, _) = case3.stop()?;
    lesson.see("stop", format!("ended by {by}, {status}"));
    lesson.claim(
        "init forwarded SIGTERM to the shell, which died of it; init exited 128+15",
        by == "SIGTERM" && status == ExitStatus::Exited(128 + libc::SIGTERM),
    );

    lesson.step(r#"zombies: PID 1 is CMD ["sleep", "1000"]; `vessel exec` leaves an orphan"#);
    let mut sleeper = base.clone();
    image::apply_changes(
        &mut sleeper.config,
        &[Change::parse(r#"CMD ["sleep", "1000"]"#)?],
    );
    for (id, init) in [("000000000004", false), ("000000000005", true)] {
        let mut case = Case::spawn(&store, &sleeper, id, init)?;
        lesson.see(
            if init {
                "with --init, PID 1"
            } else {
                "without init, PID 1"
            },
            case.pid1().describe(),
        );
        lesson.note(&format!(
            "vessel exec: sh -c '{ORPHAN}'; the shell exits, its sleep is re-parented to PID 1"
        ));
        let orphan = case.make_orphan()?;
        let parent = ProcessView::read(orphan.pid)?.parent;
        lesson.claim("the orphan's parent is now PID 1", parent == case.pid());
        lesson.syscall("pidfd_send_signal(orphan, SIGKILL); poll(pidfd, POLLIN): it has exited");
        orphan.kill_and_wait_exit()?;
        if init {
            lesson.syscall("poll(pidfd, no events): POLLHUP once its parent has reaped it");
            let reaped = orphan.reaped_within(Duration::from_secs(10))?;
            let entry = Path::new(&format!("/proc/{}", orphan.pid)).exists();
            lesson.see(
                "orphan's /proc entry",
                if entry { "still there" } else { "gone" },
            );
            lesson.claim(
                "vessel-init reaped the orphan: no zombie is left",
                reaped && !entry,
            );
            let (status, by, _) = case.stop()?;
            lesson.see("stop", format!("ended by {by}, {status}"));
            lesson.claim(
                "and stop ends by SIGTERM: init forwards it to sleep, which is no longer PID 1",
                by == "SIGTERM" && status == ExitStatus::Exited(128 + libc::SIGTERM),
            );
        } else {
            let state = ProcessView::read(orphan.pid)?.state;
            lesson.see("orphan's state in /proc", &state);
            lesson.claim(
                "without init the orphan stays a zombie (Z): sleep never calls wait()",
                state.starts_with('Z') && !orphan.reaped_within(Duration::ZERO)?,
            );
            case.kill()?;
        }
    }
    Ok(())
}

/// An image whose layer adds the ticker program and whose CMD runs it in exec form:
/// what `RUN` + `CMD ["/usr/local/bin/ticker"]` make in a Dockerfile, here a container
/// that writes the file, committed with `--change`.
fn ticker_image(store: &Store, base: &Image) -> Result<Image, Box<dyn std::error::Error>> {
    let id = "0000000000b1";
    let argv = [
        "/bin/sh",
        "-c",
        "mkdir -p /usr/local/bin && printf %s \"$TICKER\" > /usr/local/bin/ticker && chmod +x /usr/local/bin/ticker",
    ];
    let layers = ContainerFs::create(store, &id.parse()?, base, id, &argv.map(String::from))?;
    let spec = ContainerSpec::new(layers.merged(), argv)
        .overlay(layers.overlay())
        .env(format!("TICKER={TICKER}"));
    let out = vessel::output(&spec)?;
    if !out.status.success() {
        return Err(format!("writing the ticker failed: {}", out.stderr).into());
    }
    drop(layers);
    let change = Change::parse(r#"CMD ["/usr/local/bin/ticker"]"#)?;
    let (image, _) = image::commit_with_changes(store, &id.parse()?, "ticker", &[change])?;
    store.remove_container(&id.parse()?)?;
    Ok(image)
}

/// One container of the lesson, its stdin and stdout held on pipes.
struct Case {
    held: Option<HeldContainer>,
    layers: Option<ContainerFs>,
}

impl Case {
    /// Starts `image`'s command (under vessel-init with `init`) and waits until it has
    /// printed "ready", so its signal handling is set up.
    fn start(
        store: &Store,
        image: &Image,
        id: &str,
        init: bool,
    ) -> Result<Case, Box<dyn std::error::Error>> {
        let mut case = Case::spawn(store, image, id, init)?;
        case.held().lines_until("ready")?;
        Ok(case)
    }

    /// Starts `image`'s command (under vessel-init with `init`); returns once it runs.
    fn spawn(
        store: &Store,
        image: &Image,
        id: &str,
        init: bool,
    ) -> Result<Case, Box<dyn std::error::Error>> {
        let argv = image.config.argv(None, &[]);
        let layers = ContainerFs::create(store, &id.parse()?, image, id, &argv)?;
        let mut spec = ContainerSpec::new(layers.merged(), argv)
            .overlay(layers.overlay())
            .hostname(id);
        if init {
            spec = vessel::init::prepare(spec, store.root(), Some(&layers.init()))?;
        }
        let held = HeldContainer::start(&spec)?;
        Ok(Case {
            held: Some(held),
            layers: Some(layers),
        })
    }

    fn held(&mut self) -> &mut HeldContainer {
        self.held
            .as_mut()
            .expect("the container is held until it is waited for")
    }

    fn pid(&mut self) -> i32 {
        self.held().running().pid()
    }

    fn pid1(&mut self) -> ProcessView {
        ProcessView::read(self.pid()).unwrap_or_default()
    }

    /// The host pids of PID 1's children.
    fn children_of_pid1(&mut self) -> std::io::Result<Vec<i32>> {
        let pid = self.pid();
        let text = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))?;
        Ok(text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect())
    }

    /// `vessel exec`s [`ORPHAN`] and returns the orphan it leaves: the child of PID 1
    /// whose pid inside the container is the one the shell printed.
    fn make_orphan(&mut self) -> Result<Orphan, Box<dyn std::error::Error>> {
        let tenant = Tenant::of_pid(self.pid())?;
        let stdout = Pipe::new()?;
        let spec = ContainerSpec::new("/", ["/bin/sh", "-c", ORPHAN]);
        let mut shell = tenant.spawn_with_stdio(
            &spec,
            Stdio {
                stdin: None,
                stdout: Some(stdout.write.as_fd()),
                stderr: None,
            },
        )?;
        drop(stdout.write);
        // Only the first line: the orphan keeps the pipe open.
        let mut inner_pid = String::new();
        BufReader::new(File::from(stdout.read)).read_line(&mut inner_pid)?;
        shell.wait()?; // the shell has exited: its sleep is an orphan now
        for pid in self.children_of_pid1()? {
            if ProcessView::read(pid)?.inner_pid == inner_pid.trim() {
                return Orphan::open(pid);
            }
        }
        Err(format!("no child of PID 1 has pid {} inside", inner_pid.trim()).into())
    }

    /// What `vessel stop -t 2` does: SIGTERM, wait up to the timeout for PID 1 to exit,
    /// else SIGKILL. Returns the exit status, the signal that ended it, and what the
    /// container printed after "ready".
    fn stop(
        &mut self,
    ) -> Result<(ExitStatus, &'static str, Vec<String>), Box<dyn std::error::Error>> {
        let running = self.held().running();
        running.kill(libc::SIGTERM)?;
        let by = if poll(running.pidfd(), libc::POLLIN, STOP_TIMEOUT)? {
            "SIGTERM"
        } else {
            running.kill(libc::SIGKILL)?;
            "SIGKILL"
        };
        // PID 1 is gone, so the kernel has killed the rest: its output ends here.
        let said = self.held().lines_until("")?;
        Ok((self.wait()?, by, said))
    }

    fn kill(&mut self) -> Result<ExitStatus, Box<dyn std::error::Error>> {
        self.held().running().kill(libc::SIGKILL)?;
        self.wait()
    }

    fn wait(&mut self) -> Result<ExitStatus, Box<dyn std::error::Error>> {
        let held = self.held.take().expect("waited for once");
        let status = held.release()?;
        if let Some(layers) = self.layers.take() {
            layers.remove()?;
        }
        Ok(status)
    }
}

/// A process the container's PID 1 inherited, watched through a pidfd.
struct Orphan {
    pid: i32,
    pidfd: OwnedFd,
}

impl Orphan {
    fn open(pid: i32) -> Result<Orphan, Box<dyn std::error::Error>> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: `fd` is a new pidfd that nothing else owns.
        let pidfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
        Ok(Orphan { pid, pidfd })
    }

    /// SIGKILL, then wait until it has exited (its pidfd becomes readable).
    fn kill_and_wait_exit(&self) -> Result<(), Box<dyn std::error::Error>> {
        // SAFETY: a pidfd we own; null siginfo and no flags, as for kill(2).
        let sent = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if sent < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        poll(self.pidfd.as_fd(), libc::POLLIN, Duration::from_secs(10))?;
        Ok(())
    }

    /// Whether its parent reaps it within `timeout`: a pidfd polled for no events
    /// reports POLLHUP once the process is gone for good.
    fn reaped_within(&self, timeout: Duration) -> std::io::Result<bool> {
        poll(self.pidfd.as_fd(), 0, timeout)
    }
}

/// Polls `fd` for `events` (POLLHUP is always reported); true if it became ready.
fn poll(fd: BorrowedFd<'_>, events: libc::c_short, timeout: Duration) -> std::io::Result<bool> {
    let mut entry = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    loop {
        // SAFETY: one valid pollfd entry that lives across the call.
        let ready = unsafe { libc::poll(&mut entry, 1, millis) };
        match ready {
            -1 if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            -1 => return Err(std::io::Error::last_os_error()),
            n => return Ok(n > 0),
        }
    }
}

/// What the host's /proc says about a process.
#[derive(Debug, Default)]
struct ProcessView {
    command: String,
    state: String,
    inner_pid: String,
    caught: u64,
    /// The parent's pid, as the host sees it.
    parent: i32,
}

impl ProcessView {
    fn read(pid: i32) -> std::io::Result<ProcessView> {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))?;
        let command = String::from_utf8_lossy(&cmdline)
            .split('\0')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        let mask = |name: &str| u64::from_str_radix(&field(name), 16).unwrap_or(0);
        Ok(ProcessView {
            command,
            state: field("State:"),
            inner_pid: field("NSpid:")
                .split_whitespace()
                .last()
                .unwrap_or_default()
                .to_owned(),
            caught: mask("SigCgt:"),
            parent: field("PPid:").parse().unwrap_or(0),
        })
    }

    fn catches(&self, signal: i32) -> bool {
        self.caught & (1 << (signal - 1)) != 0
    }

    /// Its pid inside, its command, and whether it has a SIGTERM handler (`SigCgt`).
    /// (Not `SigBlk`: while a process waits in sigwaitinfo the kernel unblocks the
    /// awaited signals for the wait, so that field changes under our eyes.)
    fn describe(&self) -> String {
        let term = if self.catches(libc::SIGTERM) {
            "handles SIGTERM"
        } else {
            "no SIGTERM handler"
        };
        format!(
            "pid {} inside: {:?} ({term})",
            self.inner_pid,
            shorten(&self.command)
        )
    }
}

/// The command line, cut short for the transcript.
fn shorten(command: &str) -> String {
    match command.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &command[..at]),
        None => command.to_owned(),
    }
}
