//! # Lesson: root in a container is not root on the host
//!
//! A default container's first process runs as uid 0, yet almost nothing that makes
//! uid 0 dangerous on the host works inside. Not because one wall stops everything,
//! but because several layers each stop a class of attempts: read-only and masked
//! paths (host-wide kernel knobs and kernel memory), capabilities (`mount`), the device
//! cgroup (a device node root can make but not open), seccomp (calls the profile
//! refuses), `setsid` (no terminal to type into), and with `--userns` a user namespace
//! (uid 0 inside is an unprivileged uid outside). This lesson tries each attempt from a
//! default container and names the layer that stopped it. It never performs an escape:
//! the `core_pattern` attempt only *opens* the file for appending and writes nothing,
//! in a container where the open is refused.

use vessel::ContainerSpec;
use vessel::namespaces::user::IdMapping;
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-root-is-not-root";
const HOST_FIRST: u32 = 100_000;

/// Each attempt as one shell line that prints `KEY=outcome`. Nothing here writes to a
/// host-wide file: `: >>` opens with O_WRONLY|O_APPEND and writes no byte.
const ATTEMPTS: &str = "\
echo uid=$(id -u); \
echo core_pattern=$( (: >> /proc/sys/kernel/core_pattern) 2>&1 | sed 's/.*: //'); \
echo mount=$(mount -t tmpfs t /mnt 2>&1 | sed 's/^mount: //'); \
mknod /tmp/kvm c 10 232 && echo mknod=made; \
echo open_kvm=$( (: < /tmp/kvm) 2>&1 | sed 's/.*: //'); \
grep -q '^Seccomp:.2' /proc/self/status && echo seccomp=filter; \
echo timer_list_bytes=$(wc -c < /proc/timer_list); \
echo keys_bytes=$(wc -c < /proc/keys); \
read -r pid comm state ppid pgrp session tty rest < /proc/self/stat; \
echo session=$session tty_nr=$tty";

fn main() {
    Lesson::run(
        NAME,
        "uid 0 in a container is stopped by a different layer for each thing host root could do",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = ScratchRootfs::new(NAME)?;

    lesson.step("a default container (no flags): try what host root could do");
    lesson.syscall("open(O_WRONLY|O_APPEND), mount(2), mknod(2) + open(2), read /proc/timer_list and /proc/keys, /proc/self/stat");
    let spec = ContainerSpec::new(scratch.path(), ["/bin/sh", "-c", ATTEMPTS]);
    let out = vessel::output(&spec)?.stdout;
    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    lesson.see("uid inside", value("uid="));
    lesson.claim("the attempts run as uid 0", value("uid=") == "0");

    lesson.see("open core_pattern for writing", value("core_pattern="));
    lesson.note("stopped by: read-only paths (/proc/sys is a read-only bind mount)");
    lesson.claim(
        "core_pattern cannot even be opened for writing: EROFS",
        value("core_pattern=").contains("Read-only file system"),
    );

    lesson.see("mount a tmpfs", value("mount="));
    lesson.note("stopped by: capabilities (no CAP_SYS_ADMIN)");
    lesson.claim(
        "mount is refused",
        value("mount=").contains("permission denied"),
    );

    lesson.see("mknod c 10:232 (kvm)", value("mknod="));
    lesson.see("open it", value("open_kvm="));
    lesson.note(
        "stopped by: the device cgroup (CAP_MKNOD makes the node, the cgroup refuses the open)",
    );
    lesson.claim(
        "the node is made but opening it fails with EPERM",
        value("mknod=") == "made" && value("open_kvm=").contains("Operation not permitted"),
    );

    lesson.see("seccomp", value("seccomp="));
    lesson.note("stops: unshare(CLONE_NEWUSER), keyctl, bpf, … (see demo-seccomp)");
    lesson.claim(
        "docker's seccomp filter is on (Seccomp: 2)",
        value("seccomp=") == "filter",
    );

    lesson.see("bytes in /proc/timer_list", value("timer_list_bytes="));
    lesson.see("bytes in /proc/keys", value("keys_bytes="));
    lesson.note("stopped by: masked paths (/dev/null bound over each)");
    lesson.claim(
        "the host's timers and keys read as empty",
        value("timer_list_bytes=") == "0" && value("keys_bytes=") == "0",
    );

    lesson.see("session and tty_nr", value("session="));
    lesson.note("stopped by: setsid() in the child (no controlling terminal for TIOCSTI)");
    lesson.claim(
        "the container leads its own session (sid 1) with no controlling terminal (tty_nr 0)",
        value("session=") == "1 tty_nr=0",
    );

    lesson.step("--userns: uid 0 inside is uid 100000 outside");
    lesson.syscall("read /proc/self/uid_map (inside-first, outside-first, count)");
    let spec = ContainerSpec::new(scratch.path(), ["/bin/sh", "-c", "cat /proc/self/uid_map"])
        .id_mapping(IdMapping::shifted(HOST_FIRST, 65_536));
    let map = vessel::output(&spec)?
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    lesson.see("uid_map", &map);
    lesson.note("stopped by: the user namespace (what escapes is an unprivileged uid)");
    lesson.claim(
        "uid 0 inside maps to host uid 100000",
        map == format!("0 {HOST_FIRST} 65536"),
    );
    Ok(())
}
