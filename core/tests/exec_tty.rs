//! `vessel exec -t` without a real terminal: the test starts a detached container, opens
//! a pty pair, gives `vessel exec -t` the slave as its stdin, stdout and stderr (as a
//! user's terminal would be) and reads the master. No sleeps: every wait is a read that
//! the other side's write (or exit) ends.

mod cli_support;

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

use cli_support::terminal::{Session, cooked, set_size};
use cli_support::{kill_and_wait, start_sleeper, text, vessel, vessel_in};

/// A detached `sleep 1000` container in a run directory of its own. [`Sleeper::stop`]
/// kills it and checks its exit was recorded; if a check fails before that, dropping it
/// still removes the container (`rm -f`), so a failed test leaves nothing running.
struct Sleeper {
    run_dir: tempfile::TempDir,
    id: String,
    stopped: bool,
}

impl Sleeper {
    fn start(options: &[&str]) -> Sleeper {
        let run_dir = tempfile::tempdir().unwrap();
        let id = start_sleeper(vessel_in(run_dir.path()), options);
        Sleeper {
            run_dir,
            id,
            stopped: false,
        }
    }

    fn run_dir(&self) -> &Path {
        self.run_dir.path()
    }

    fn stop(mut self) {
        self.stopped = true;
        kill_and_wait(vessel_in(self.run_dir()), self.run_dir(), &self.id);
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = vessel_in(self.run_dir())
                .args(["rm", "-f", &self.id])
                .output();
        }
    }
}

/// `vessel exec -t ID -- COMMAND` in `sleeper` on a new terminal of `rows` × `cols`.
fn start(sleeper: &Sleeper, command: &[&str], size: (u16, u16)) -> Session {
    let mut vessel = vessel_in(sleeper.run_dir());
    vessel.args(["exec", "-t", &sleeper.id, "--"]).args(command);
    Session::start(vessel, size)
}

/// Reads the rest of the output and waits for vessel: (output, exit code, whether the
/// user's terminal is cooked again).
fn finish(session: Session) -> (String, Option<i32>, bool) {
    let master = session.master.try_clone().unwrap();
    let (seen, code) = session.finish();
    (seen, code, cooked(master.as_fd()))
}

/// The value after `key=` on a line of `seen` (the shell's output, `\r\n` line ends).
fn field<'a>(seen: &'a str, key: &str) -> Option<&'a str> {
    seen.lines()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
}

/// What the container holds once an exec is over: no pty in its `/dev/pts` (only
/// `ptmx`) and no process but its first one (`sleep`; the shell that looks leaves itself
/// out, and reads with builtins only, so it starts no other process).
fn assert_nothing_left_in(sleeper: &Sleeper) {
    let script = "echo $(ls /dev/pts); for p in /proc/[0-9]*; do \
                  [ ${p#/proc/} = $$ ] || { read comm <$p/comm; echo $comm; }; done";
    let out = vessel(
        sleeper.run_dir(),
        &["exec", &sleeper.id, "--", "sh", "-c", script],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ptmx\nsleep\n",
        "only ptmx in /dev/pts, only sleep running"
    );
}

/// The script that shows the command's terminal from inside: its name, its size,
/// whether it is the controlling terminal, who owns it and whether the name opens.
const SHOW_TERMINAL: &str = "echo tty=$(tty); echo size=$(stty size); \
    echo tty_nr=$(cut -d' ' -f7 /proc/self/stat); \
    echo owner=$(stat -c %u:%g $(tty)); \
    echo pts=$(ls /dev/pts | tr '\\n' ' '); \
    echo reopened >$(tty) && echo reopen=ok; exit 7";

/// Checks `SHOW_TERMINAL`'s output: a pty of the container's devpts, owned by the
/// container's root, the controlling terminal, of the caller's size; exit 7 passed on.
fn check_terminal_of_the_containers_own(options: &[&str]) {
    let sleeper = Sleeper::start(options);
    let session = start(&sleeper, &["sh", "-c", SHOW_TERMINAL], (37, 101));
    let (seen, code, cooked) = finish(session);
    assert_eq!(code, Some(7), "the exit code passes through: {seen}");
    let tty = field(&seen, "tty").unwrap_or_default();
    let number = tty.strip_prefix("/dev/pts/").unwrap_or_default();
    assert!(
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        "the pty has a name in the container's /dev/pts (not \"not a tty\"): {seen}"
    );
    assert_eq!(
        field(&seen, "pts"),
        Some(format!("{number} ptmx").as_str()),
        "the container's devpts lists it, and only it: {seen}"
    );
    assert_eq!(field(&seen, "size"), Some("37 101"), "{seen}");
    assert_ne!(
        field(&seen, "tty_nr"),
        Some("0"),
        "the command has a controlling terminal: {seen}"
    );
    assert_eq!(
        field(&seen, "owner"),
        Some("0:0"),
        "the container's root owns it: {seen}"
    );
    assert_eq!(field(&seen, "reopen"), Some("ok"), "{seen}");
    assert!(cooked, "the user's terminal is restored");
    assert_nothing_left_in(&sleeper);
    sleeper.stop();
}

#[test]
fn exec_t_gives_the_command_a_terminal_of_the_containers_own_sized_like_the_callers() {
    vessel::require_root!();
    check_terminal_of_the_containers_own(&[]);
}

#[test]
fn exec_t_in_a_container_with_a_user_namespace_gets_a_terminal_its_root_owns() {
    vessel::require_root!();
    // The container's root is host uid 100000: a pty vessel opened as the host's root
    // would be `nobody`'s in there, and `echo >$(tty)` would be refused.
    check_terminal_of_the_containers_own(&["--userns"]);
}

#[test]
fn exec_t_relays_keys_follows_the_window_size_and_restores_the_terminal() {
    vessel::require_root!();
    let sleeper = Sleeper::start(&[]);
    // SIGWINCH interrupts a waiting `read` (which then returns nothing): read again.
    let script = "trap 'echo winch=yes' WINCH; echo ready; \
                  while [ -z \"$line\" ]; do read line; done; \
                  echo size=$(stty size); echo got=$line; exit 5";
    let mut session = start(&sleeper, &["sh", "-c", script], (24, 80));
    let before = session.read_until("ready");
    assert!(before.contains("ready"), "{before}");
    assert!(
        !cooked(session.master.as_fd()),
        "the user's terminal is raw while the command runs"
    );
    // The user resizes the window: the terminal changes size and vessel gets SIGWINCH
    // (here sent by hand: the test's pty is not vessel's controlling terminal). Queued
    // before the line below is typed, so vessel's loop handles it first.
    set_size(session.master.as_fd(), 50, 120);
    let pid = session.vessel.id() as libc::pid_t;
    // SAFETY: kill takes a pid (vessel, our child, not yet waited for) and a signal.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGWINCH) }, 0);
    session.master.write_all(b"hello\n").unwrap();
    let (seen, code, cooked) = finish(session);
    assert_eq!(code, Some(5), "{seen}");
    assert_eq!(field(&seen, "got"), Some("hello"), "{seen}");
    assert_eq!(field(&seen, "size"), Some("50 120"), "{seen}");
    assert_eq!(
        field(&seen, "winch"),
        Some("yes"),
        "the command got SIGWINCH from its terminal: {seen}"
    );
    assert!(
        cooked,
        "the user's terminal is restored when vessel is done"
    );
    assert_nothing_left_in(&sleeper);
    sleeper.stop();
}

#[test]
fn ctrl_c_typed_at_exec_t_reaches_the_command_through_its_own_terminal() {
    vessel::require_root!();
    let sleeper = Sleeper::start(&[]);
    let mut session = start(&sleeper, &["sh", "-c", "echo ready; cat"], (24, 80));
    // Relayed output means vessel already made the user's terminal raw, so the byte
    // goes through as it is, and the container's pty turns it into SIGINT for its
    // foreground process group: the command's.
    let before = session.read_until("ready");
    assert!(before.contains("ready"), "{before}");
    session.master.write_all(b"\x03").unwrap();
    let (seen, code, cooked) = finish(session);
    assert_eq!(code, Some(128 + libc::SIGINT), "killed by SIGINT: {seen}");
    assert!(cooked, "the user's terminal is restored");
    assert_nothing_left_in(&sleeper);
    sleeper.stop();
}

#[test]
fn exec_t_of_a_missing_command_says_so_and_leaves_the_terminal_cooked() {
    vessel::require_root!();
    let sleeper = Sleeper::start(&[]);
    let session = start(&sleeper, &["no-such-command"], (24, 80));
    let (seen, code, cooked) = finish(session);
    assert_eq!(code, Some(127), "{seen}");
    assert!(seen.contains("no-such-command"), "{seen}");
    assert!(seen.contains("not found"), "{seen}");
    assert!(cooked, "the user's terminal is never left raw");
    assert_nothing_left_in(&sleeper);
    sleeper.stop();
}

#[test]
fn exec_t_without_a_terminal_is_refused_clearly() {
    vessel::require_root!();
    let sleeper = Sleeper::start(&[]);
    let out = vessel_in(sleeper.run_dir())
        .args(["exec", "-t", &sleeper.id, "--", "true"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("-t needs a terminal on stdin"),
        "{}",
        text(&out.stderr)
    );
    sleeper.stop();
}
