//! # Lesson: joining a container with `setns` (how `docker exec` works)
//!
//! A container is not a thing the kernel knows about: it is processes that share a set of
//! namespaces. So "entering" a container means joining the same namespaces: open each
//! `/proc/PID/ns/*` file of a process inside and call `setns(2)` on it. Two details make
//! it work: the user namespace is joined first (it grants the rights to join the rest),
//! and joining a PID namespace only applies to *children*, so the joining process forks
//! once more before `execve`.
//!
//! The lesson starts a container, `exec`s a second process into it with vessel's
//! `Tenant`, and compares the namespace inodes of both with the host's.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;

use vessel::process::error::ProcessError;
use vessel::process::pipe::Pipe;
use vessel::process::tenant::Tenant;
use vessel::{Container, ContainerSpec, Namespace, Namespaces, Stdio, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-setns";
/// Prints once running, then waits for a line on stdin.
const WAIT: &str = "echo $$; read _; exit 0";

fn main() {
    Lesson::run(
        NAME,
        "exec joins a running container's namespaces with setns",
        run,
    )
}

/// A process started with its stdin and stdout on pipes, and what it printed first.
struct Waiting {
    running: vessel::Running,
    stdin: Pipe,
    first_line: String,
}

fn wait_for_first_line(
    start: impl FnOnce(Stdio<'_>) -> vessel::Result<vessel::Running, ProcessError>,
) -> Result<Waiting, Box<dyn std::error::Error>> {
    let stdin = Pipe::new()?;
    let stdout = Pipe::new()?;
    let running = start(Stdio {
        stdin: Some(stdin.read.as_fd()),
        stdout: Some(stdout.write.as_fd()),
        stderr: None,
    })?;
    drop(stdout.write);
    let first_line = BufReader::new(File::from(stdout.read))
        .lines()
        .next()
        .transpose()?
        .unwrap_or_default();
    Ok(Waiting {
        running,
        stdin,
        first_line,
    })
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("start a container with all but the user namespace new");
    lesson.syscall("clone3(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET), unshare(CLONE_NEWCGROUP|CLONE_NEWTIME)");
    let namespaces: Namespaces = Namespace::ALL
        .into_iter()
        .filter(|ns| *ns != Namespace::User)
        .collect();
    let spec = ContainerSpec::new(rootfs::default_rootfs()?, ["/bin/sh", "-c", WAIT])
        .namespaces(namespaces)
        .hostname("joined");
    let container = wait_for_first_line(|stdio| Container::spawn_with_stdio(&spec, stdio))?;
    let first = container.running.pid();
    lesson.see("the container's first process", format!("host pid {first}"));

    lesson.step("exec a second process into it");
    lesson.syscall("open /proc/PID/ns/{mnt,uts,ipc,pid,net,cgroup,time} and /proc/PID/root");
    lesson
        .syscall("setns(fd, 0) for each, fchdir+chroot to the root, clone3(CLONE_PARENT), execve");
    let tenant = Tenant::of_pid(first)?;
    let joined: Vec<Namespace> = tenant.namespaces_to_join()?;
    let names: Vec<&str> = joined.iter().map(|ns| ns.proc_name()).collect();
    lesson.see(
        "namespaces that differ from ours (to join)",
        names.join(","),
    );
    let exec_spec = ContainerSpec::new("/", ["/bin/sh", "-c", WAIT]);
    let second = wait_for_first_line(|stdio| tenant.spawn_with_stdio(&exec_spec, stdio))?;
    let second_pid = second.running.pid();
    lesson.see("the exec'd process", format!("host pid {second_pid}"));
    lesson.see("its pid inside the container ($$)", &second.first_line);
    lesson.claim(
        "the exec'd process is in the container's PID namespace (pid 2 there, not its host pid)",
        second.first_line == "2" && second_pid != 2,
    );

    lesson.step("compare /proc/PID/ns/* of both processes with the host's");
    lesson.syscall("readlink /proc/PID/ns/TYPE: \"type:[inode]\", the inode names the namespace");
    let mut all_equal = true;
    let mut all_differ = true;
    for ns in Namespace::ALL {
        let link = |pid: &str| {
            std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
                .map(|l| l.display().to_string())
                .unwrap_or_default()
        };
        let (a, b, host) = (
            link(&first.to_string()),
            link(&second_pid.to_string()),
            link("self"),
        );
        let same = |x: &str, y: &str| if x == y { "same" } else { "other" };
        lesson.note(&format!(
            "{:<7} container {a}  exec'd {b} ({})  host {host} ({})",
            ns.proc_name(),
            same(&a, &b),
            same(&a, &host)
        ));
        all_equal &= !a.is_empty() && a == b;
        if ns != Namespace::User {
            all_differ &= a != host;
        }
    }
    lesson.claim(
        "both processes are in exactly the same namespaces, all eight",
        all_equal,
    );
    lesson.claim(
        "all seven selected namespaces differ from the host's",
        all_differ,
    );

    lesson.step("let both finish");
    let Waiting {
        mut running, stdin, ..
    } = second;
    drop(stdin);
    let exec_status = running.wait()?;
    let Waiting {
        mut running, stdin, ..
    } = container;
    drop(stdin);
    let status = running.wait()?;
    lesson.see("exec'd process", exec_status);
    lesson.see("container", status);
    lesson.claim(
        "both exited cleanly",
        exec_status.success() && status.success(),
    );
    Ok(())
}
