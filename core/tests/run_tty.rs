//! `vessel run -t` and `-it` without a real terminal: the test opens a pty pair, gives
//! vessel the slave as its stdin, stdout and stderr (as a user's terminal would be) and
//! reads the master. No sleeps: every wait is a read that the other side's write ends.

mod cli_support;

use std::io::Write;
use std::os::fd::AsFd;
use std::process::Command;

use cli_support::terminal::{Session, cooked, posts_output, set_size};
use vessel::rootfs;

/// `vessel run --rm --rootfs DEFAULT <options> -- sh -c SCRIPT` on a new terminal of
/// `rows` × `cols`.
fn start(options: &[&str], script: &str, size: (u16, u16)) -> Session {
    let rootfs = rootfs::default_rootfs().unwrap();
    let mut vessel = Command::new(env!("CARGO_BIN_EXE_vessel"));
    vessel
        .args(["run", "--rm", "--rootfs", rootfs.to_str().unwrap()])
        .args(options)
        .args(["--", "sh", "-c", script]);
    Session::start(vessel, size)
}

#[test]
fn run_t_gives_the_container_a_terminal_of_its_own_sized_like_the_callers() {
    vessel::require_root!();
    let session = start(
        &["-t"],
        "tty; stty size; [ -t 0 ] && echo stdin-is-a-tty; echo pts: $(ls /dev/pts); exit 7",
        (37, 101),
    );
    let (seen, code) = session.finish();
    assert_eq!(code, Some(7), "the exit code passes through: {seen}");
    // The pty comes from the container's own devpts instance, so it has a name there.
    assert!(seen.contains("/dev/pts/0"), "{seen}");
    assert!(seen.contains("37 101"), "{seen}");
    assert!(seen.contains("stdin-is-a-tty"), "{seen}");
    assert!(
        seen.contains("pts: 0 ptmx"),
        "one pty, the container's: {seen}"
    );
}

#[test]
fn run_it_relays_keys_and_follows_the_window_size() {
    vessel::require_root!();
    let script = "echo ready; read line; stty size; echo got:$line; exit 5";
    let mut session = start(&["-it"], script, (24, 80));
    let before = session.read_until("ready");
    assert!(before.contains("ready"), "{before}");
    assert!(
        !cooked(session.master.as_fd()),
        "with -i the user's terminal is raw while the container runs"
    );
    // The user resizes the window: the terminal changes size and vessel gets SIGWINCH
    // (here sent by hand: the test's pty is not vessel's controlling terminal). Queued
    // before the line below is typed, so vessel's loop handles it first.
    set_size(session.master.as_fd(), 50, 120);
    let pid = session.vessel.id() as libc::pid_t;
    // SAFETY: kill takes a pid (vessel, our child, not yet waited for) and a signal.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGWINCH) }, 0);
    session.master.write_all(b"hello\n").unwrap();
    let master = session.master.try_clone().unwrap();
    let (seen, code) = session.finish();
    assert_eq!(code, Some(5), "{seen}");
    assert!(seen.contains("got:hello"), "{seen}");
    assert!(seen.contains("50 120"), "{seen}");
    assert!(
        cooked(master.as_fd()),
        "the user's terminal is restored when vessel is done"
    );
}

#[test]
fn run_t_without_i_ends_lines_with_one_carriage_return() {
    vessel::require_root!();
    // The container's pty turns `\n` into `\r\n`; the user's terminal (cooked, with
    // ONLCR, as a new pty is) must show that as it comes, not add a second `\r`.
    let session = start(&["-t"], "echo one; echo two", (24, 80));
    let master = session.master.try_clone().unwrap();
    assert!(
        posts_output(master.as_fd()),
        "the user's terminal starts cooked"
    );
    let (seen, code) = session.finish();
    assert_eq!(code, Some(0), "{seen:?}");
    assert!(seen.contains("one\r\ntwo\r\n"), "{seen:?}");
    assert!(!seen.contains("\r\r\n"), "one \\r per line: {seen:?}");
    assert!(
        posts_output(master.as_fd()) && cooked(master.as_fd()),
        "the user's terminal is restored when vessel is done"
    );
}

#[test]
fn without_t_the_container_has_no_terminal_of_its_own() {
    vessel::require_root!();
    // Even on a terminal, vessel's own (a host pty) is a stranger in the container's
    // devpts: `tty` finds no name for it.
    let session = start(&[], "tty", (24, 80));
    let (seen, code) = session.finish();
    assert!(seen.contains("not a tty"), "{seen}");
    assert_eq!(code, Some(1), "tty exits 1 without a terminal: {seen}");
}

#[test]
fn t_with_d_and_it_without_a_terminal_are_refused_clearly() {
    vessel::require_root!();
    let run_dir = tempfile::tempdir().unwrap();
    let vessel = |args: &[&str]| {
        let mut command = cli_support::vessel_in(run_dir.path());
        command.args(args).stdin(std::process::Stdio::null());
        command.output().unwrap()
    };
    let detached = vessel(&["run", "-d", "-t", "--", "sleep", "100"]);
    assert_eq!(detached.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&detached.stderr),
        "vessel: -t with -d: a detached container has no terminal to relay to, its output \
         goes to `vessel logs` (drop -t, or run it in the foreground with -it)\n"
    );
    let interactive = vessel(&["run", "-it", "--", "true"]);
    assert_eq!(interactive.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&interactive.stderr).contains("-t needs a terminal on stdin"),
        "{}",
        String::from_utf8_lossy(&interactive.stderr)
    );
    // Refused before anything existed: no record.
    assert_eq!(std::fs::read_dir(run_dir.path()).unwrap().count(), 0);
}
