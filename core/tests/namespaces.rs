//! Every namespace type, checked against the real kernel: a new namespace has another
//! inode than the host's, and shows what its lesson says it shows. Run from libtest's
//! threads, so the user and time namespaces are made by the cloned child, never here.

use vessel::namespaces::time::TimeOffsets;
use vessel::namespaces::user::IdMapping;
use vessel::test_support::{HeldContainer, mounts_under};
use vessel::{Container, ContainerSpec, Namespace, Namespaces, Output, rootfs};

fn run(spec: &ContainerSpec) -> Output {
    let before = mounts_under(&rootfs::default_rootfs().unwrap());
    let out = vessel::output(spec).expect("container runs");
    assert_eq!(
        mounts_under(&rootfs::default_rootfs().unwrap()),
        before,
        "a mount leaked to the host"
    );
    out
}

fn sh(script: &str) -> ContainerSpec {
    ContainerSpec::new(
        rootfs::default_rootfs().expect("default rootfs"),
        ["/bin/sh", "-c", script],
    )
}

fn host_ns(ns: Namespace) -> String {
    let link = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
    link.to_string_lossy().into_owned()
}

/// The namespace file link inside a container made with `ns` on top of `spec`'s
/// namespaces, next to the host's.
fn inside_and_host(ns: Namespace, spec: ContainerSpec) -> (String, String) {
    let namespaces = spec.namespaces.with(ns);
    let out = run(&spec
        .namespaces(namespaces)
        .clone_with_script(&format!("readlink /proc/self/ns/{ns}")));
    assert!(out.status.success(), "{ns}: {}", out.stderr);
    (out.stdout.trim().to_owned(), host_ns(ns))
}

trait WithScript {
    fn clone_with_script(&self, script: &str) -> ContainerSpec;
}

impl WithScript for ContainerSpec {
    fn clone_with_script(&self, script: &str) -> ContainerSpec {
        let mut spec = self.clone();
        spec.argv = vec!["/bin/sh".into(), "-c".into(), script.into()];
        spec
    }
}

#[test]
fn each_new_namespace_has_its_own_inode() {
    vessel::require_root!();
    for ns in [
        Namespace::Ipc,
        Namespace::Network,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ] {
        let (inside, host) = inside_and_host(ns, sh(""));
        assert_ne!(inside, host, "{ns} should be new");
        assert!(inside.starts_with(&format!("{ns}:[")), "{inside}");
    }
}

#[test]
fn a_namespace_left_out_is_the_hosts() {
    vessel::require_root!();
    let spec = sh("readlink /proc/self/ns/ipc; readlink /proc/self/ns/net")
        .namespaces(Namespaces::container_default().without(Namespace::Ipc));
    let out = run(&spec);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [host_ns(Namespace::Ipc), host_ns(Namespace::Network)]
    );
}

#[test]
fn a_new_network_namespace_has_only_lo_and_it_is_up() {
    vessel::require_root!();
    let before = net_devices();
    let spec = sh("tail -n +3 /proc/net/dev | cut -d: -f1; cat /sys/class/net/lo/flags")
        .namespaces(Namespaces::container_default().with(Namespace::Network));
    let out = run(&spec);
    let lines: Vec<&str> = out.stdout.lines().map(str::trim).collect();
    assert_eq!(lines[0], "lo", "{}", out.stdout);
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let flags = u32::from_str_radix(lines[1].trim_start_matches("0x"), 16).unwrap();
    assert_ne!(flags & libc::IFF_UP as u32, 0, "lo is down: {flags:#x}");
    assert_eq!(net_devices(), before);
}

fn net_devices() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn user_namespace_root_is_an_unprivileged_host_uid() {
    vessel::require_root!();
    let spec = sh("id -u; id -g; cat /proc/self/uid_map; echo ready; read _; exit 0")
        .id_mapping(IdMapping::shifted(200_000, 65_536));
    let mut container = HeldContainer::start(&spec).unwrap();
    let mut next = || container.next_line().unwrap();
    assert_eq!(next(), "0");
    assert_eq!(next(), "0");
    assert_eq!(
        next().split_whitespace().collect::<Vec<_>>(),
        ["0", "200000", "65536"]
    );
    assert_eq!(next(), "ready");
    let pid = container.running().pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid_line.split_whitespace().nth(1),
        Some("200000"),
        "{uid_line}"
    );
    assert!(container.release().unwrap().success());
}

#[test]
fn user_namespace_root_cannot_change_what_it_does_not_own() {
    vessel::require_root!();
    // sethostname needs CAP_SYS_ADMIN: granted in both containers, so that the
    // refusal below comes from who owns the namespace, not from a dropped capability.
    let sys_admin = vessel::security::capabilities::CapSet::of(&["SYS_ADMIN"]);
    // The UTS namespace is the host's, owned by the host's user namespace: no rights.
    let before = nix::unistd::gethostname().unwrap();
    let spec = sh("hostname changed-by-container 2>/dev/null && echo changed || echo refused")
        .namespaces(Namespaces::container_default().without(Namespace::Uts))
        .id_mapping(IdMapping::shifted(200_000, 65_536))
        .add_capabilities(sys_admin);
    assert_eq!(run(&spec).stdout, "refused\n");
    assert_eq!(nix::unistd::gethostname().unwrap(), before);
    // Its own UTS namespace belongs to its user namespace: there root may.
    let own = sh("hostname inner && hostname")
        .id_mapping(IdMapping::shifted(200_000, 65_536))
        .add_capabilities(sys_admin);
    assert_eq!(run(&own).stdout, "inner\n");
}

#[test]
fn a_user_namespace_gets_bound_host_devices_and_a_read_only_sys() {
    vessel::require_root!();
    let spec = sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c; \
                   touch /sys/x 2>/dev/null || echo sys-read-only")
    .id_mapping(IdMapping::shifted(200_000, 65_536));
    assert_eq!(run(&spec).stdout, "4\nsys-read-only\n");
}

#[test]
fn time_namespace_offsets_shift_boottime_and_monotonic() {
    vessel::require_root!();
    let offsets = TimeOffsets {
        monotonic: 86_400,
        boottime: 2 * 86_400,
    };
    let host_before = uptime_centiseconds(&std::fs::read_to_string("/proc/uptime").unwrap());
    let out = run(&sh("cat /proc/uptime; cat /proc/self/timens_offsets").time_offsets(offsets));
    let host_after = uptime_centiseconds(&std::fs::read_to_string("/proc/uptime").unwrap());
    let mut lines = out.stdout.lines();
    let inside = uptime_centiseconds(lines.next().unwrap());
    // /proc/uptime counts CLOCK_BOOTTIME in whole centiseconds (truncated), shifted by
    // exactly the offset, a whole number of seconds: so in integer centiseconds the value
    // read inside lies between the host's before and after plus the offset, with no
    // tolerance. (As f64, 24601.08 + 172800.0 is 197401.08000000002, above an inside
    // reading of 197401.08 taken in the same centisecond.)
    let offset = 172_800 * 100;
    assert!(
        host_before + offset <= inside && inside <= host_after + offset,
        "inside {inside} cs, host {host_before}..{host_after} cs, offset {offset} cs"
    );
    let rest: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        rest,
        [["monotonic", "86400", "0"], ["boottime", "172800", "0"]]
    );
}

/// The first number of a `/proc/uptime` line (`24601.08 98213.40`), in centiseconds.
fn uptime_centiseconds(line: &str) -> u64 {
    let first = line.split_whitespace().next().expect("an uptime");
    let (seconds, hundredths) = first.split_once('.').expect("two decimals");
    assert_eq!(hundredths.len(), 2, "{line:?}");
    seconds.parse::<u64>().unwrap() * 100 + hundredths.parse::<u64>().unwrap()
}

#[test]
fn uptime_is_compared_in_exact_centiseconds() {
    assert_eq!(uptime_centiseconds("24601.08 98213.40\n"), 2_460_108);
    // The reading that made the f64 comparison fail: the host read before the start and
    // the reading inside fell in the same centisecond.
    let (before, inside) = ("24601.08", "197401.08");
    let as_f64 = |s: &str| s.parse::<f64>().unwrap();
    assert!(
        as_f64(before) + 172_800.0 > as_f64(inside),
        "f64 rounds up here"
    );
    assert_eq!(
        uptime_centiseconds(before) + 172_800 * 100,
        uptime_centiseconds(inside)
    );
}

#[test]
fn bad_time_offsets_are_refused_and_leave_nothing() {
    vessel::require_root!();
    let before = mounts_under(&rootfs::default_rootfs().unwrap());
    let spec = sh("true").time_offsets(TimeOffsets {
        monotonic: -1_000_000_000,
        boottime: 0,
    });
    let error = Container::spawn(&spec).expect_err("a negative clock is refused");
    let message = vessel::cli::error_chain(&error);
    assert!(message.contains("timens_offsets"), "{message}");
    assert!(message.contains("monotonic=-1000000000s"), "{message}");
    assert_eq!(mounts_under(&rootfs::default_rootfs().unwrap()), before);
}

#[test]
fn cgroup_namespace_shows_the_container_at_the_root() {
    vessel::require_root!();
    let spec = sh("cut -d: -f3 /proc/self/cgroup | sort -u")
        .namespaces(Namespaces::container_default().with(Namespace::Cgroup));
    assert_eq!(run(&spec).stdout, "/\n");
}

#[test]
fn a_mapping_without_root_is_refused_before_anything_starts() {
    let mut mapping = IdMapping::shifted(200_000, 10);
    mapping.uids[0].inside = 1;
    let error = Container::spawn(&sh("true").id_mapping(mapping)).unwrap_err();
    assert_eq!(
        vessel::cli::error_chain(&error),
        "user namespace id mapping: container root (id 0) is not mapped to any host id \
         (map container root, e.g. --userns 0:100000:65536)"
    );
}
