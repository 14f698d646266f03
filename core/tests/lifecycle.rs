//! The container lifecycle through the CLI: `run -d`, `ps`, `logs`, `stop`, `kill`,
//! `wait`, `inspect`, `rm`, by id, unique id prefix or name — and clear errors for ids
//! and names that name nothing, or more than one container.

mod lifecycle_support;

use std::process::Stdio;

use lifecycle_support::{Vessel, text};
use vessel::state::{Record, Status};
use vessel::test_support::{BOUND, BoundedLines, wait_within};

const TICKER: &str = "while :; do echo tick; sleep 1; done";

// ANCHOR: done_when
#[test]
fn a_detached_shell_logs_ignores_sigterm_is_killed_after_the_timeout_and_removed() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "--name", "web", "--", "sh", "-c", TICKER]);
    let id = id.trim();
    assert_eq!(id.len(), 12, "run -d prints the id: {id:?}");

    let ps = vessel.ok(&["ps"]);
    assert!(
        ps.contains(id) && ps.contains("web") && ps.contains("running"),
        "{ps}"
    );
    assert_eq!(vessel.first_log_line("web"), "tick\n");
    let logs = vessel.ok(&["logs", "--tail", "1", "-t", "web"]);
    assert!(
        logs.ends_with(" tick\n") && logs.starts_with("20"),
        "{logs:?}"
    );

    // A shell as PID 1 has no SIGTERM handler, and PID 1 ignores such signals.
    let stop = vessel.ok(&["stop", "-t", "2", "web"]);
    assert_eq!(
        stop,
        "web: it ignored SIGTERM; SIGKILL ended it after the timeout\n"
    );
    let record = vessel.state().find("web").unwrap();
    assert_eq!(
        (record.status, record.exit_code),
        (Status::Exited, Some(137))
    );
    assert!(
        vessel.ok(&["ps"]).lines().count() == 1,
        "ps hides exited ones"
    );
    assert!(vessel.ok(&["ps", "-a"]).contains("exited with code 137"));
    assert_eq!(vessel.ok(&["wait", "web"]), "137\n");

    assert_eq!(vessel.ok(&["rm", "web"]), "web\n");
    vessel.assert_gone(id);
    vessel.assert_empty();
}
// ANCHOR_END: done_when

#[test]
fn a_command_with_a_sigterm_handler_ends_by_sigterm() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let script = "trap 'echo bye; exit 3' TERM; echo ready; while :; do sleep 1; done";
    let id = vessel.ok(&["run", "-d", "--", "sh", "-c", script]);
    let id = id.trim();
    assert_eq!(vessel.first_log_line(&id[..5]), "ready\n");
    assert_eq!(
        vessel.ok(&["stop", "-t", "20", &id[..5]]),
        format!("{}: SIGTERM ended it\n", &id[..5])
    );
    assert_eq!(vessel.ok(&["wait", id]), "3\n");
    assert_eq!(vessel.ok(&["logs", id]), "ready\nbye\n");
    // Stopping it again: nothing to stop.
    assert!(vessel.ok(&["stop", id]).contains("already exited"));
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
}

#[test]
fn stdout_and_stderr_are_logged_apart_and_wait_prints_the_exit_code() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&[
        "run",
        "-d",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; printf partial; exit 7",
    ]);
    let id = id.trim();
    assert_eq!(vessel.ok(&["wait", id]), "7\n");
    let out = vessel.output(&["logs", id]);
    assert_eq!(text(&out.stdout), "out\npartial");
    assert_eq!(text(&out.stderr), "err\n");
    let inspect: serde_json::Value = serde_json::from_str(&vessel.ok(&["inspect", id])).unwrap();
    assert_eq!(inspect["exit_code"], 7);
    assert_eq!(inspect["observed"], "exited with code 7");
    assert_eq!(inspect["oom_killed"], false);
    assert!(inspect["log"].as_str().unwrap().ends_with(".log"));
    let record: Record = serde_json::from_value(inspect).unwrap();
    assert_eq!(record.id, id);
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
}

#[test]
fn an_oom_kill_is_recorded_with_its_cgroup_and_limits() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&[
        "run",
        "-d",
        "-m",
        "16m",
        "--",
        "sh",
        "-c",
        "x=a; while :; do x=$x$x; done",
    ]);
    let id = id.trim();
    assert_eq!(vessel.ok(&["wait", id]), "137\n");
    let record = vessel.state().find(id).unwrap();
    assert!(record.oom_killed, "{record:?}");
    assert_eq!(record.limits.memory_bytes, Some(16 << 20));
    assert!(!record.cgroup_dirs.is_empty());
    assert!(
        record.cgroup_dirs.iter().all(|d| !d.exists()),
        "the shim removed the cgroup"
    );
    assert!(vessel.ok(&["ps", "-a"]).contains("(OOM-killed)"));
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
}

#[test]
fn a_foreground_container_has_a_name_and_can_be_stopped_from_elsewhere() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let mut fg = vessel
        .command(&[
            "run",
            "--rm",
            "--name",
            "fg",
            "--",
            "sh",
            "-c",
            "echo up; while :; do sleep 1; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = BoundedLines::new(fg.stdout.take().unwrap(), BOUND).next_line();
    assert_eq!(line.unwrap().as_deref(), Some("up"));
    let taken = vessel.fails(&["run", "--name", "fg", "--", "true"]);
    assert!(taken.contains("the name \"fg\" is already used"), "{taken}");
    assert!(
        vessel
            .fails(&["logs", "fg"])
            .contains("has no log: it ran in the foreground")
    );
    let running = vessel.fails(&["rm", "fg"]);
    assert!(running.contains("is running: stop it first"), "{running}");
    let id = vessel.state().find("fg").unwrap().id;
    assert!(
        vessel
            .ok(&["stop", "-t", "1", "fg"])
            .contains("SIGKILL ended it")
    );
    let status = wait_within(&mut fg, BOUND).unwrap();
    assert_eq!(status.expect("the foreground run ended").code(), Some(137));
    // --rm: the foreground run removed its record and layers as it returned.
    vessel.assert_gone(&id);
    vessel.assert_empty();
}

#[test]
fn unknown_ambiguous_and_bad_names_get_clear_errors() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let no = "vessel: no container \"nope\" (see `vessel ps -a` for ids and names)\n";
    for args in [
        &["stop", "nope"][..],
        &["kill", "nope"],
        &["rm", "nope"],
        &["rm", "-f", "nope"],
        &["logs", "nope"],
        &["inspect", "nope"],
        &["wait", "nope"],
        &["exec", "nope", "--", "true"],
        &["commit", "nope", "img"],
    ] {
        assert_eq!(vessel.fails(args), no, "vessel {args:?}");
    }
    // Two records whose ids share a prefix (made directly: ids are random otherwise).
    let state = vessel.state();
    for id in ["abc000000001", "abc000000002"] {
        state
            .create(&Record::new(
                id.parse().unwrap(),
                None,
                vec!["true".into()],
                "/".into(),
            ))
            .unwrap();
    }
    assert_eq!(
        vessel.fails(&["inspect", "abc"]),
        "vessel: \"abc\" matches more than one container (abc000000001, abc000000002): give more of the id, or the name\n"
    );
    assert!(
        vessel
            .ok(&["inspect", "abc000000002"])
            .contains("abc000000002")
    );
    for id in ["abc000000001", "abc000000002"] {
        state.remove(&id.parse().unwrap()).unwrap();
    }
    let bad = vessel.output(&["run", "-d", "--name", "no/slash", "--", "true"]);
    assert_eq!(bad.status.code(), Some(125));
    assert!(text(&bad.stderr).contains("--name \"no/slash\": a name is 1 to 64"));
    vessel.assert_empty();
}

#[test]
fn names_are_unique_and_a_refused_start_leaves_nothing() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "--name", "one", "--", "sleep", "1000"]);
    let id = id.trim();
    // A command no other test runs, to find any layers made for the refused start.
    let marker = "refused-start-marker";
    let taken = vessel.fails(&["run", "-d", "--name", "one", "--", "echo", marker]);
    assert!(taken.contains("already used"), "{taken}");
    let layers_of_refused: Vec<_> =
        std::fs::read_dir(vessel::rootfs::state_root().join("containers"))
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path().join("container.json"))
                    .is_ok_and(|record| record.contains(marker))
            })
            .collect();
    assert!(layers_of_refused.is_empty(), "{layers_of_refused:?}");
    assert_eq!(vessel.state().list().unwrap().len(), 1);
    assert!(vessel.fails(&["rm", "one"]).contains("is running"));
    assert_eq!(vessel.ok(&["kill", "-s", "TERM", "one"]), format!("{id}\n"));
    assert_eq!(vessel.ok(&["rm", "-f", "one"]), "one\n");
    vessel.assert_gone(id);
    // The name is free again.
    vessel.ok(&["run", "--rm", "--name", "one", "--", "true"]);
    vessel.assert_empty();
}

#[test]
fn ps_json_is_an_array_of_records_with_their_observed_status() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "--name", "js", "--", "sleep", "1000"]);
    let id = id.trim();
    let ps: serde_json::Value =
        serde_json::from_str(&vessel.ok(&["ps", "--format", "json"])).unwrap();
    let first = &ps.as_array().unwrap()[0];
    assert_eq!(
        (first["id"].as_str(), first["observed"].as_str()),
        (Some(id), Some("running"))
    );
    assert_eq!(first["name"], "js");
    assert_eq!(first["image"], "base");
    vessel.ok(&["rm", "-f", "js"]);
    vessel.assert_gone(id);
}

#[test]
fn rm_and_stop_of_several_containers_go_on_past_one_that_fails() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let done = vessel.ok(&["run", "-d", "--name", "done", "--", "true"]);
    assert_eq!(vessel.ok(&["wait", "done"]), "0\n");
    vessel.ok(&["run", "-d", "--name", "busy", "--", "sleep", "1000"]);
    let out = vessel.output(&["rm", "nothere", "busy", "done"]);
    assert_eq!(out.status.code(), Some(125));
    // Each refusal is said, and the container that could go went.
    assert_eq!(text(&out.stdout), "done\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no container \"nothere\"") && stderr.contains("is running"),
        "{stderr}"
    );
    vessel.assert_gone(done.trim());
    let out = vessel.output(&["stop", "-t", "0", "nothere", "busy"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        text(&out.stdout),
        "busy: it ignored SIGTERM; SIGKILL ended it after the timeout\n"
    );
    assert_eq!(vessel.ok(&["rm", "busy"]), "busy\n");
    vessel.assert_empty();
}

/// Blocks until some process opens `path` (inotify `IN_OPEN`, watched from before the
/// `arm` call): how a test knows `vessel wait` holds the log, without a sleep.
fn opened_after(path: &std::path::Path, arm: impl FnOnce()) {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    assert!(
        fd >= 0,
        "inotify_init1: {}",
        std::io::Error::last_os_error()
    );
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `fd` is our inotify descriptor, `cpath` a NUL-terminated path.
    let wd = unsafe { libc::inotify_add_watch(fd, cpath.as_ptr(), libc::IN_OPEN) };
    assert!(
        wd >= 0,
        "inotify_add_watch: {}",
        std::io::Error::last_os_error()
    );
    arm();
    let mut event = [0u8; 4096];
    // SAFETY: a blocking read of our inotify descriptor into a live buffer; the
    // descriptor is closed right after.
    let n = unsafe { libc::read(fd, event.as_mut_ptr().cast(), event.len()) };
    // SAFETY: closing the descriptor we own, once.
    unsafe { libc::close(fd) };
    assert!(n > 0, "read inotify: {}", std::io::Error::last_os_error());
}

#[test]
fn wait_on_a_detached_rm_container_prints_its_exit_code() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let script = "trap 'exit 3' TERM; echo ready; while :; do sleep 1; done";
    let id = vessel.ok(&[
        "run", "-d", "--rm", "--name", "gone", "--", "sh", "-c", script,
    ]);
    let id = id.trim();
    assert_eq!(vessel.first_log_line("gone"), "ready\n");
    let log = vessel.state().log_path(&id.parse().unwrap());
    let mut wait = None;
    opened_after(&log, || {
        wait = Some(
            vessel
                .command(&["wait", "gone"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    });
    vessel.ok(&["kill", "-s", "TERM", "gone"]);
    let out = wait.unwrap().wait_with_output().unwrap();
    assert_eq!(
        (text(&out.stdout), out.status.code()),
        ("3\n".to_owned(), Some(0)),
        "{}",
        text(&out.stderr)
    );
    vessel.assert_gone(id);
    vessel.assert_empty();
}

#[test]
fn binary_output_and_a_line_longer_than_a_pipe_come_back_unchanged() {
    vessel::require_root!();
    let vessel = Vessel::new();
    // A binary (every byte value, no newline for long stretches), then a 200 KiB line:
    // more than a pipe holds, and more than one log entry.
    let script = "cat /bin/busybox; head -c 204800 /dev/zero | tr '\\0' x; echo";
    let expected = vessel.output(&["run", "--rm", "--", "sh", "-c", script]);
    assert!(expected.status.success() && expected.stdout.len() > 204_800);
    let id = vessel.ok(&["run", "-d", "--", "sh", "-c", script]);
    let id = id.trim();
    assert_eq!(vessel.ok(&["wait", id]), "0\n");
    let logged = vessel.output(&["logs", id]);
    assert!(
        logged.stdout == expected.stdout,
        "logs gave {} bytes, the command wrote {}",
        logged.stdout.len(),
        expected.stdout.len()
    );
    vessel.ok(&["rm", id]);
    vessel.assert_gone(id);
}

#[test]
fn wait_while_rm_f_removes_the_container_still_prints_how_it_ended() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let id = vessel.ok(&["run", "-d", "--name", "raced", "--", "sleep", "1000"]);
    let id = id.trim();
    let mut wait = None;
    opened_after(&vessel.state().log_path(&id.parse().unwrap()), || {
        wait = Some(
            vessel
                .command(&["wait", "raced"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    });
    assert_eq!(vessel.ok(&["rm", "-f", "raced"]), "raced\n");
    let out = wait.unwrap().wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "137\n", "{}", text(&out.stderr));
    vessel.assert_gone(id);
    vessel.assert_empty();
}

#[test]
fn a_record_that_does_not_parse_is_named_by_ps_and_removed_by_rm() {
    vessel::require_root!();
    let vessel = Vessel::new();
    std::fs::write(vessel.run_dir().join("deadbeef0000.json"), "{garbage").unwrap();
    // Every other command still works.
    vessel.ok(&["run", "--rm", "--name", "fine", "--", "true"]);
    let ps = vessel.output(&["ps", "-a"]);
    assert!(ps.status.success());
    assert!(
        text(&ps.stderr).contains("container deadbeef0000 is left out")
            && text(&ps.stderr).contains("`vessel rm deadbeef0000`"),
        "{}",
        text(&ps.stderr)
    );
    assert_eq!(vessel.ok(&["rm", "deadbeef0000"]), "deadbeef0000\n");
    vessel.assert_empty();
}

#[test]
fn run_d_whose_reader_went_away_keeps_the_container_and_its_layers() {
    vessel::require_root!();
    let vessel = Vessel::new();
    // Nobody reads the id: `vessel run -d … | true`.
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let status = vessel
        .command(&["run", "-d", "--name", "unread", "--", "sleep", "1000"])
        .stdout(std::fs::File::from(write))
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
    let record = vessel.state().find("unread").unwrap();
    assert!(record.is_running());
    let layers = record.layers_dir.clone().unwrap();
    assert!(
        layers.join("upper").is_dir(),
        "{} is gone",
        layers.display()
    );
    // The same for a reader that leaves after the first of several lines.
    vessel.ok(&["run", "-d", "--name", "second", "--", "sleep", "1000"]);
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let status = vessel
        .command(&["rm", "-f", "unread", "second"])
        .stdout(std::fs::File::from(write))
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
    vessel.assert_gone(&record.id);
    vessel.assert_empty();
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: libc::pid_t) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| vessel::state::process::parse_state(&stat))
        .is_some_and(|state| !matches!(state, 'Z' | 'X'))
}

#[test]
fn without_a_pid_namespace_rm_f_and_the_exit_still_end_every_process() {
    vessel::require_root!();
    let vessel = Vessel::new();
    // No limits: the cgroup is made for --pid host all the same, or the background
    // sleep (not a child of a PID 1 whose exit ends a namespace) would outlive it all.
    let script = "sleep 1000 >/dev/null 2>&1 & echo $!; exec sleep 1000";
    let id = vessel.ok(&["run", "-d", "--pid", "host", "--", "sh", "-c", script]);
    let id = id.trim();
    let left: libc::pid_t = vessel.first_log_line(id).trim().parse().unwrap();
    assert!(alive(left));
    vessel.ok(&["rm", "-f", id]);
    assert!(!alive(left), "pid {left} outlived rm -f");
    vessel.assert_gone(id);
    // In the foreground: the exit of the first process ends the rest.
    let script = "sleep 1000 >/dev/null 2>&1 & echo $!";
    let out = vessel.output(&["run", "--rm", "--pid", "host", "--", "sh", "-c", script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let left: libc::pid_t = text(&out.stdout).trim().parse().unwrap();
    assert!(!alive(left), "pid {left} outlived its container");
    vessel.assert_empty();
}

#[test]
fn ps_q_prints_ids_only_for_rm_f_of_them_all() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let running = vessel.ok(&["run", "-d", "--", "sleep", "1000"]);
    let done = vessel.ok(&["run", "-d", "--", "true"]);
    assert_eq!(vessel.ok(&["wait", done.trim()]), "0\n");
    assert_eq!(vessel.ok(&["ps", "-q"]), running);
    let mut all: Vec<String> = vessel
        .ok(&["ps", "-aq"])
        .lines()
        .map(String::from)
        .collect();
    all.sort();
    let mut want = vec![running.trim().to_owned(), done.trim().to_owned()];
    want.sort();
    assert_eq!(all, want);
    let mut rm = vec!["rm", "-f"];
    rm.extend(all.iter().map(String::as_str));
    vessel.ok(&rm);
    vessel.assert_empty();
}

#[test]
fn kill_and_wait_take_several_containers_and_go_on_past_one_that_fails() {
    vessel::require_root!();
    let vessel = Vessel::new();
    let a = vessel.ok(&["run", "-d", "--", "sleep", "1000"]);
    let b = vessel.ok(&["run", "-d", "--", "sleep", "1000"]);
    let (a, b) = (a.trim(), b.trim());
    assert_eq!(vessel.ok(&["kill", a, b]), format!("{a}\n{b}\n"));
    let out = vessel.output(&["wait", a, "nothere", b]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(text(&out.stdout), "137\n137\n");
    assert!(text(&out.stderr).contains("no container \"nothere\""));
    vessel.ok(&["rm", a, b]);
    vessel.assert_empty();
}

#[test]
fn rm_f_of_a_container_whose_supervisor_is_stopped_does_not_wait_for_ever() {
    vessel::require_root!();
    let vessel = Vessel::new();
    // `run -d` returns once the shim has recorded the start: it holds no lock now.
    let id = vessel.ok(&["run", "-d", "--name", "tz", "--", "sleep", "1000"]);
    let record = vessel.state().find("tz").unwrap();
    // SAFETY: kill(2) of the shim, pinned by the record's start time just now and
    // alive (it is the container's parent, and the container runs).
    assert_eq!(unsafe { libc::kill(record.shim_pid, libc::SIGSTOP) }, 0);
    // The stop lands as the shim next runs; it is stopped once its state says so.
    let state = || {
        std::fs::read_to_string(format!("/proc/{}/stat", record.shim_pid))
            .ok()
            .and_then(|stat| vessel::state::process::parse_state(&stat))
    };
    while state() != Some('T') {
        std::thread::yield_now();
    }
    // Without the SIGCONT, rm -f would wait for ever for the shim to record the exit.
    assert_eq!(vessel.ok(&["rm", "-f", "tz"]), "tz\n");
    vessel.assert_gone(id.trim());
    vessel.assert_empty();
}
