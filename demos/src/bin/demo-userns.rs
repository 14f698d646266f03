//! # Lesson: the user namespace
//!
//! User and group ids are translated by a *user namespace*: its `uid_map` says which host
//! ids its ids stand for. Root inside (uid 0) can be an ordinary, unprivileged uid on the
//! host, and the capabilities it holds count only for resources owned by its own user
//! namespace: it may set the hostname of a UTS namespace it created, but not the host's.
//! This is how rootless containers work, and why a root escape from a user-namespaced
//! container lands as a nobody on the host.
//!
//! The lesson maps container ids 0-65535 to host ids 100000-165535, creates a file inside
//! and looks at its owner from the host, then tries to change the host's hostname.

use std::os::unix::fs::MetadataExt;

use vessel::namespaces::user::IdMapping;
use vessel::{ContainerSpec, Namespace, Namespaces};
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-userns";
const HOST_FIRST: u32 = 100_000;

fn main() {
    Lesson::run(
        NAME,
        "root inside a user namespace is an ordinary uid outside",
        run,
    )
}

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = ScratchRootfs::new(NAME)?;
    let mapping = IdMapping::shifted(HOST_FIRST, 65_536);

    lesson.step("start a container in a new user namespace; the parent writes its id maps");
    lesson.syscall("clone3(CLONE_NEWUSER|…); the child waits on a pipe");
    lesson.syscall("write \"0 100000 65536\" to /proc/PID/uid_map and gid_map (parent)");
    lesson.syscall("setresgid(0,0,0), setgroups(0), setresuid(0,0,0) in the child, then execve");
    let script = "id -u; cat /proc/self/uid_map; grep CapEff /proc/self/status; \
                  echo hello > /tmp/made-inside; stat -c %u /tmp/made-inside";
    // Privileged (every capability kept, as `vessel run --privileged`): this lesson is
    // about what a user namespace's root holds, not about the capabilities vessel drops
    // by default, and the refusal below must come from ownership, not a dropped one.
    let spec = ContainerSpec::new(scratch.path(), ["/bin/sh", "-c", script])
        .id_mapping(mapping)
        .capabilities(None);
    let out = vessel::output(&spec)?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    let field = |i: usize| lines.get(i).copied().unwrap_or_default().trim().to_owned();
    let map = field(1).split_whitespace().collect::<Vec<_>>().join(" ");
    lesson.see("uid inside (id -u)", field(0));
    lesson.see("/proc/self/uid_map inside (inside outside count)", &map);
    lesson.see(
        "effective capabilities inside",
        field(2).trim_start_matches("CapEff:").trim(),
    );
    lesson.claim("the command runs as uid 0 inside", field(0) == "0");
    lesson.claim(
        "uid 0 inside is uid 100000 on the host",
        map == "0 100000 65536",
    );
    lesson.claim(
        "root inside holds a full capability set (over its own namespaces)",
        u64::from_str_radix(field(2).trim_start_matches("CapEff:").trim(), 16).ok()
            == Some(all_capabilities()?),
    );

    lesson.step("look at the file it created, from the host");
    lesson.syscall("stat(2) on the rootfs directory from outside");
    let file = scratch.path().join("tmp/made-inside");
    let owner = std::fs::metadata(&file)?.uid();
    lesson.see("owner inside (stat -c %u)", field(3));
    lesson.see("owner on the host", owner);
    lesson.claim("inside, the file belongs to root (0)", field(3) == "0");
    lesson.claim(
        "on the host, the same file belongs to uid 100000",
        owner == HOST_FIRST,
    );

    lesson.step("try to change the hostname of the host's UTS namespace");
    lesson
        .syscall("sethostname(2) → EPERM: the UTS namespace belongs to the host's user namespace");
    let before = hostname();
    let host_uts = Namespaces::container_default().without(Namespace::Uts);
    let attempt = ContainerSpec::new(
        scratch.path(),
        ["/bin/sh", "-c", "hostname hijacked 2>&1; echo exit=$?"],
    )
    .namespaces(host_uts)
    .id_mapping(IdMapping::shifted(HOST_FIRST, 65_536))
    .capabilities(None);
    let out = vessel::output(&attempt)?;
    for line in out.stdout.lines() {
        lesson.note(&format!("| {line}"));
    }
    lesson.claim(
        "root inside is refused: capabilities count only over its own namespaces",
        out.stdout.contains("exit=1") && out.stdout.contains("not permitted"),
    );
    lesson.claim("the host's hostname is unchanged", hostname() == before);

    lesson.step("the same root may set the hostname of a UTS namespace it owns");
    let own = ContainerSpec::new(
        scratch.path(),
        ["/bin/sh", "-c", "hostname inner && hostname"],
    )
    .id_mapping(IdMapping::shifted(HOST_FIRST, 65_536))
    .capabilities(None);
    let out = vessel::output(&own)?;
    lesson.see("hostname inside after sethostname", out.stdout.trim());
    lesson.claim(
        "its own UTS namespace takes the new name",
        out.stdout.trim() == "inner",
    );
    Ok(())
}

/// Every capability this kernel knows, as a CapEff mask (`/proc/sys/kernel/cap_last_cap`).
fn all_capabilities() -> Result<u64, Box<dyn std::error::Error>> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")?
        .trim()
        .parse()?;
    Ok((1u64 << (last + 1)) - 1)
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
