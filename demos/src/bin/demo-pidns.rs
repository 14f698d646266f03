//! # Lesson: the PID namespace
//!
//! Process ids are numbered per *PID namespace*. The first process in a new one is PID 1
//! there — with PID 1's special duties: orphans are re-parented to it, and it gets no
//! signal it has not installed a handler for. The same process also has an ordinary pid
//! in its parent's namespace: the kernel keeps one number per level (`NSpid` in
//! `/proc/PID/status`). A fresh `/proc` mounted inside shows only the processes of the
//! namespace, so `ps` there sees only the container.

use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-pidns";

/// The container reports its own pid, lists what `ps` sees, then waits for a line on
/// stdin, so the lesson can look at it from the host while it is still running.
const SCRIPT: &str = "echo $$; ps -o pid,comm; echo end; read _; exit 0";

fn main() {
    Lesson::run(NAME, "a container is PID 1 of its own PID namespace", run)
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("start `sh` in a new PID namespace, with a fresh /proc");
    lesson.syscall("clone3(CLONE_NEWPID|…); mount(\"proc\", \"/proc\", \"proc\") in the child");
    let spec = ContainerSpec::new(rootfs::default_rootfs()?, ["/bin/sh", "-c", SCRIPT]);
    let mut held = HeldContainer::start(&spec)?;
    let host_pid = held.running().pid();
    lesson.see(
        "the container's pid on the host",
        format!("host pid {host_pid}"),
    );

    let inside_pid = held.next_line()?;
    lesson.step("ask the shell for its own pid ($$) inside the container");
    lesson.syscall("getpid(2)");
    lesson.see("pid inside", &inside_pid);
    lesson.claim(
        "the container's first process is PID 1 inside",
        inside_pid == "1",
    );
    lesson.claim(
        "the same process has another pid outside",
        host_pid != 1 && host_pid.to_string() != inside_pid,
    );

    lesson.step("look at the process from the host: one pid per PID namespace level");
    lesson.syscall(&format!("read /proc/{host_pid}/status (NSpid line)"));
    let nspid = read_nspid(host_pid)?;
    lesson.see("NSpid (host, then container)", nspid.join(" "));
    lesson.claim(
        "the kernel records both numbers: the host's pid, then 1",
        nspid.first() == Some(&host_pid.to_string())
            && nspid.last().map(String::as_str) == Some("1"),
    );

    lesson.step("run `ps` inside: it reads the container's own /proc");
    lesson.syscall("readdir(/proc) inside the container");
    let table = held.lines_until("end")?;
    for line in &table {
        lesson.note(&format!("| {line}"));
    }
    let listed: Vec<u32> = table
        .iter()
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect();
    let host_processes = std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .count();
    lesson.see("processes ps lists inside", listed.len());
    lesson.claim(
        "ps inside sees only the container's two processes (sh and ps itself)",
        listed.len() == 2 && listed.contains(&1),
    );
    lesson.claim(
        "the host sees more processes than the container does",
        host_processes > listed.len(),
    );

    lesson.step("let the container finish");
    let status = held.release()?;
    lesson.see("exit", status);
    lesson.claim("the container exited cleanly", status.success());
    Ok(())
}

/// The `NSpid` field: this process's pid in each PID namespace, outermost first.
fn read_nspid(pid: i32) -> std::io::Result<Vec<String>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}
