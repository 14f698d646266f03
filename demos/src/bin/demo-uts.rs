//! # Lesson: the UTS namespace
//!
//! The hostname is not a property of the machine but of a *UTS namespace* (named after
//! `struct utsname`, what `uname(2)` returns). A process in a new UTS namespace starts with
//! a copy of its parent's hostname and can change it with `sethostname(2)`; nobody outside
//! sees the change. This lesson starts a container with its own hostname and checks that
//! the host's hostname did not move.

use vessel::{ContainerSpec, Namespace, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-uts";
const CONTAINER_HOSTNAME: &str = "vessel-demo";

fn main() {
    Lesson::run(NAME, "a container can have its own hostname", run)
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("read the host's hostname");
    lesson.syscall("uname(2) → utsname.nodename (also /proc/sys/kernel/hostname)");
    let before = host_hostname();
    lesson.see("host hostname", format!("{before:?}"));
    let host_uts = ns_link("self", Namespace::Uts);
    lesson.see("host UTS namespace", &host_uts);

    lesson.step("start a container in a new UTS namespace that sets its own hostname");
    lesson.syscall(
        "clone3(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC), then sethostname(2) in the child",
    );
    let spec = ContainerSpec::new(
        rootfs::default_rootfs()?,
        ["/bin/sh", "-c", "hostname; readlink /proc/self/ns/uts"],
    )
    .hostname(CONTAINER_HOSTNAME);
    let output = vessel::output(&spec)?;
    let mut lines = output.stdout.lines();
    let inside = lines.next().unwrap_or_default().to_owned();
    let inside_uts = lines.next().unwrap_or_default().to_owned();
    lesson.see("hostname inside", format!("{inside:?}"));
    lesson.see("UTS namespace inside", &inside_uts);
    lesson.claim(
        &format!("the container's hostname is {CONTAINER_HOSTNAME:?}"),
        inside == CONTAINER_HOSTNAME,
    );
    lesson.claim(
        "the container's UTS namespace is not the host's",
        !inside_uts.is_empty() && inside_uts != host_uts,
    );

    lesson.step("read the host's hostname again");
    lesson.syscall("uname(2)");
    let after = host_hostname();
    lesson.see("host hostname", format!("{after:?}"));
    lesson.claim("the host's hostname is unchanged", after == before);
    Ok(())
}

fn host_hostname() -> String {
    nix::unistd::gethostname()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn ns_link(pid: &str, ns: Namespace) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{}", ns.proc_name()))
        .map(|target| target.display().to_string())
        .unwrap_or_default()
}
