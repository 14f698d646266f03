//! # Lesson: capabilities, root divided
//!
//! The kernel does not ask "is this uid 0?" before a privileged operation; it asks "does
//! this thread hold the *capability* for it?" — `CAP_SYS_ADMIN` for `mount` and
//! `sethostname`, `CAP_CHOWN` for `chown`, about forty in all. A container's first process
//! runs as uid 0 but, like docker's, keeps only 14 of them: enough to install packages and
//! run daemons, not enough to mount, load modules or change the clock. This lesson reads
//! the sets a container starts with from `/proc/self/status`, and shows one dropped and one
//! added capability change what the same uid 0 may do.

use vessel::security::capabilities::{self, CapSet, Capabilities, DOCKER_DEFAULT};
use vessel::{ContainerSpec, rootfs};
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-capabilities";

fn main() {
    Lesson::run(
        NAME,
        "root in a container holds only the capabilities it was given",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    lesson.step("the lesson itself: root on the host");
    lesson.syscall("capget(2) on this thread");
    let (effective, _, _) = capabilities::own()?;
    let sys_admin = capabilities::parse("SYS_ADMIN").ok_or("CAP_SYS_ADMIN is unknown")?;
    let chown = capabilities::parse("CHOWN").ok_or("CAP_CHOWN is unknown")?;
    lesson.claim(
        "the lesson holds CAP_SYS_ADMIN and CAP_CHOWN",
        effective.contains(sys_admin) && effective.contains(chown),
    );

    lesson.step("a container with the default set: read its Cap* lines, try sethostname");
    lesson.syscall("in the child, last before execve: prctl(PR_CAPBSET_DROP) for each capability not kept, capset(2), prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    let inside = in_container(
        Capabilities::docker_default(),
        "grep ^Cap /proc/self/status; id -u; hostname renamed; echo sethostname=$?",
    )?;
    let sets = capabilities::parse_status(&inside).ok_or("no Cap* lines in the output")?;
    lesson.see("uid inside", line_after(&inside, "CapAmb:"));
    lesson.see("effective", sets.effective);
    lesson.see("inheritable", sets.inheritable);
    lesson.see("ambient", sets.ambient);
    lesson.claim(
        "bounding, permitted and effective sets are docker's 14",
        sets.bounding == DOCKER_DEFAULT
            && sets.permitted == DOCKER_DEFAULT
            && sets.effective == DOCKER_DEFAULT,
    );
    lesson.claim(
        "the inheritable and ambient sets are empty",
        sets.inheritable == CapSet::EMPTY && sets.ambient == CapSet::EMPTY,
    );
    lesson.see("sethostname", value(&inside, "sethostname="));
    lesson.claim(
        "uid 0 without CAP_SYS_ADMIN may not set even its own namespace's hostname",
        value(&inside, "sethostname=") == "1",
    );

    lesson.step("--cap-drop CHOWN: the same uid 0 may no longer give a file away");
    lesson.syscall("chown(2) → EPERM without CAP_CHOWN");
    let script = "touch /tmp/f; chown 1 /tmp/f; echo chown=$?";
    let with = in_container(Capabilities::docker_default(), script)?;
    let without = in_container(Capabilities::only(DOCKER_DEFAULT.without(chown)), script)?;
    lesson.see("chown with the default set", value(&with, "chown="));
    lesson.see("chown after --cap-drop CHOWN", value(&without, "chown="));
    lesson.claim(
        "chown works with CAP_CHOWN and is refused without it",
        value(&with, "chown=") == "0" && value(&without, "chown=") == "1",
    );

    lesson.step("--cap-add SYS_ADMIN: now sethostname works");
    lesson.syscall("sethostname(2) in the container's own UTS namespace");
    let added = in_container(
        Capabilities::docker_default().adding(CapSet::EMPTY.with(sys_admin)),
        "hostname renamed; echo sethostname=$?; hostname",
    )?;
    lesson.see("sethostname", value(&added, "sethostname="));
    lesson.claim(
        "with CAP_SYS_ADMIN the container renames itself",
        value(&added, "sethostname=") == "0" && added.lines().last() == Some("renamed"),
    );
    Ok(())
}

/// Stdout of `sh -c script` in a container (default namespaces) holding `caps`.
fn in_container(caps: Capabilities, script: &str) -> Result<String, vessel::Error> {
    let spec = ContainerSpec::new(rootfs::default_rootfs()?, ["/bin/sh", "-c", script])
        .capabilities(Some(caps));
    Ok(vessel::output(&spec)?.stdout)
}

/// What follows `key` on the line that starts with it.
fn value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_default()
}

/// The line after the one that starts with `key`.
fn line_after<'a>(text: &'a str, key: &str) -> &'a str {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(key));
    lines.next();
    lines.next().unwrap_or_default()
}
