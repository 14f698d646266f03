//! # Lesson: the cgroup namespace
//!
//! `/proc/self/cgroup` tells a process where it sits in each cgroup hierarchy. Without a
//! *cgroup namespace* a container reads the host's whole path (and learns how the host is
//! organised); with one, the cgroup it was in when the namespace was made becomes its
//! `/`. vessel creates the namespace with `unshare(CLONE_NEWCGROUP)` in the child *after*
//! the parent moved it into its own cgroup, so the container's root is its own cgroup and
//! not the caller's.

use std::path::{Path, PathBuf};

use vessel::cgroups::{CgroupSpec, Resources, Version, detect};
use vessel::test_support::HeldContainer;
use vessel::{ContainerSpec, Namespace, Namespaces, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-cgroupns";

fn main() {
    Lesson::run(
        NAME,
        "a cgroup namespace makes the container's cgroup its /",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("start a container in its own cgroup and a new cgroup namespace");
    lesson.syscall(
        "mkdir the cgroup, write the child's pid to cgroup.procs (parent, while the child waits)",
    );
    lesson.syscall(
        "unshare(CLONE_NEWCGROUP) in the child: its current cgroup becomes the namespace's root",
    );
    let name = format!("{NAME}-{}", std::process::id());
    let spec = ContainerSpec::new(
        rootfs::default_rootfs()?,
        [
            "/bin/sh",
            "-c",
            "cat /proc/self/cgroup; echo end; readlink /proc/self/ns/cgroup; read _; exit 0",
        ],
    )
    .namespaces(Namespaces::container_default().with(Namespace::Cgroup))
    .cgroup(CgroupSpec::new(name.clone(), Resources::default()));
    let mut held = HeldContainer::start(&spec)?;
    let inside = held.lines_until("end")?;
    let inside_ns = held.next_line()?;
    let pid = held.running().pid();

    lesson.step("read /proc/self/cgroup inside the container");
    lesson.syscall("read /proc/self/cgroup (ID:CONTROLLERS:PATH per hierarchy)");
    for line in &inside {
        lesson.note(&format!("| {line}"));
    }
    lesson.claim(
        "inside, every hierarchy shows the container at /",
        !inside.is_empty() && inside.iter().all(|l| l.rsplit(':').next() == Some("/")),
    );

    lesson.step("read the same process's cgroups from the host");
    lesson.syscall(&format!("read /proc/{}/cgroup from the host", pid));
    let host_view = std::fs::read_to_string(format!("/proc/{}/cgroup", pid))?;
    let own: Vec<&str> = host_view
        .lines()
        .filter(|l| l.ends_with(&format!("/{name}")))
        .collect();
    for line in &own {
        // The caller's own cgroup path varies with the machine: show only its end.
        let path = line.rsplit(':').next().unwrap_or_default();
        // The unified hierarchy's line (`0::PATH`) names no controller.
        let controllers = match line.split(':').nth(1).unwrap_or_default() {
            "" => "unified (0::)",
            named => named,
        };
        lesson.note(&format!(
            "| {controllers}: …/vessel/{name}",
            name = path.rsplit('/').next().unwrap_or_default()
        ));
    }
    let dirs: Vec<PathBuf> = own.iter().filter_map(|l| cgroup_dir(l)).collect();
    lesson.claim(
        "from the host, the same process sits in …/vessel/<its cgroup>",
        !own.is_empty() && dirs.iter().all(|d| d.is_dir()),
    );
    let host_ns = std::fs::read_link("/proc/self/ns/cgroup")?;
    lesson.see("cgroup namespace inside", &inside_ns);
    lesson.see("cgroup namespace of the host", host_ns.display());
    lesson.claim(
        "the container's cgroup namespace is not the host's",
        !inside_ns.is_empty() && inside_ns != host_ns.to_string_lossy(),
    );

    lesson.step("let the container finish; its cgroup is removed");
    let status = held.release()?;
    lesson.see("exit", status);
    let left = dirs.iter().filter(|d| d.exists()).count();
    lesson.claim(
        "the container exited cleanly and its cgroup is gone",
        status.success() && !dirs.is_empty() && left == 0,
    );
    Ok(())
}

/// The host directory of one `/proc/PID/cgroup` line: the hierarchy's mount joined with
/// the path. A v1 hierarchy is mounted under the name of its first controller; the
/// unified one (`0::`) is `/sys/fs/cgroup/unified` on a hybrid host and `/sys/fs/cgroup`
/// itself on a v2 host.
fn cgroup_dir(line: &str) -> Option<PathBuf> {
    let mut parts = line.splitn(3, ':');
    let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
    let root = Path::new("/sys/fs/cgroup");
    let mount = match controllers.split(',').next().filter(|c| !c.is_empty()) {
        Some(first) => root.join(first),
        None if detect(root).ok()? == Version::V2 => root.to_path_buf(),
        None => root.join("unified"),
    };
    Some(mount.join(path.trim_start_matches('/')))
}
