//! The device cgroup, tested on the real kernel: container root can make any device node
//! (`CAP_MKNOD`, as with docker) but open only the ones docker's allow-list names;
//! `--privileged` (no rules) opens them all. Nodes are made in the container's `/dev`
//! tmpfs, so nothing is left in the shared rootfs.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use vessel::cgroups::{CgroupSpec, DeviceRule, DeviceRules, Layout, Resources};
use vessel::process::pipe::Pipe;
use vessel::rootfs::volume::Volume;
use vessel::{Container, ContainerSpec, ExitStatus, Stdio, rootfs};

/// Opens `$2` for writing (write-only: /dev/kmsg then needs no CAP_SYSLOG, so only the
/// device cgroup can refuse it) and says how it went: `NAME opened`, or
/// `NAME <the error's text>`.
const PROBE: &str = r#"probe() { if err=$( (exec 3>"$2") 2>&1 ); then echo "$1 opened"; else echo "$1 ${err##*: }"; fi; }"#;

/// The rootfs's own mknod (busybox has one), else the host's, bound at /dev/mknod
/// (a rootfs of host binaries has none, but the host's libraries to run it).
const FIND_MKNOD: &str = "MKNOD=$(command -v mknod || echo /dev/mknod)";

/// Devices of the host a container must not reach: `(name, type, major, minor)`.
const HOST_DEVICES: [(&str, &str, u32, u32); 6] = [
    ("kvm", "c", 10, 232),
    ("kmsg", "c", 1, 11),
    ("fuse", "c", 10, 229),
    ("loop-control", "c", 10, 237),
    ("ttyS0", "c", 4, 64),
    ("loop0", "b", 7, 0),
];

/// `sh -c script` (after [`PROBE`]) with the host's mknod at `/dev/mknod`.
fn probing(script: &str) -> ContainerSpec {
    let mknod = which("mknod");
    ContainerSpec::new(
        rootfs::default_rootfs().expect("default rootfs"),
        ["/bin/sh", "-c", &format!("{PROBE}\n{FIND_MKNOD}\n{script}")],
    )
    .volume(Volume {
        host: mknod,
        container: "/dev/mknod".into(),
        read_only: true,
        attrs: 0,
    })
}

fn which(command: &str) -> PathBuf {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(command))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no {command} on this host"))
}

/// Makes each device with mknod and probes it.
fn make_and_probe(devices: &[(&str, &str, u32, u32)]) -> String {
    devices
        .iter()
        .map(|(name, kind, major, minor)| {
            format!("$MKNOD /dev/x-{name} {kind} {major} {minor} && probe {name} /dev/x-{name}\n")
        })
        .collect()
}

/// Runs `spec` to its end; its stdout, and the cgroup directories it had while running.
fn run(spec: &ContainerSpec) -> (String, Vec<PathBuf>) {
    let out = Pipe::new().unwrap();
    let null = File::open("/dev/null").unwrap();
    let mut running = Container::spawn_with_stdio(
        spec,
        Stdio {
            stdin: Some(null.as_fd()),
            stdout: Some(out.write.as_fd()),
            stderr: None,
        },
    )
    .unwrap();
    drop(out.write);
    let dirs = running.cgroup().map(|c| c.dirs()).unwrap_or_default();
    let mut stdout = String::new();
    File::from(out.read).read_to_string(&mut stdout).unwrap();
    assert_eq!(running.wait().unwrap(), ExitStatus::Exited(0), "{stdout}");
    (stdout, dirs)
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn a_default_container_makes_device_nodes_but_cannot_open_them() {
    vessel::require_root!();
    let (stdout, dirs) = run(&probing(&make_and_probe(&HOST_DEVICES)));
    let expected: Vec<String> = HOST_DEVICES
        .iter()
        .map(|(name, ..)| format!("{name} Operation not permitted"))
        .collect();
    assert_eq!(lines(&stdout), expected);
    // Without a cgroup in the spec, one was made for the rules, and removed after.
    assert!(!dirs.is_empty(), "no cgroup held the device rules");
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    assert!(left.is_empty(), "cgroup directories left behind: {left:?}");
}

#[test]
fn the_devices_a_process_expects_still_work() {
    vessel::require_root!();
    let script = "\
        for d in null zero full random urandom ptmx; do probe $d /dev/$d; done
        $MKNOD /dev/x-null c 1 3 && probe made-null /dev/x-null
        exec 3<>/dev/ptmx
        probe pts0 /dev/pts/0
        probe tty /dev/tty
    ";
    let (stdout, _) = run(&probing(script));
    assert_eq!(
        lines(&stdout),
        [
            "null opened",
            "zero opened",
            "full opened",
            "random opened",
            "urandom opened",
            "ptmx opened",
            "made-null opened",
            // Refused by the pty itself (locked until unlockpt), not by the cgroup.
            "pts0 Input/output error",
            // No controlling terminal: the tty driver's answer, not the cgroup's.
            "tty No such device or address",
        ]
    );
}

#[test]
fn privileged_opens_every_device() {
    vessel::require_root!();
    // kvm and loop-control open harmlessly as root; the others would need their driver.
    let devices = [HOST_DEVICES[0], HOST_DEVICES[4]];
    let spec = probing(&make_and_probe(&devices)).devices(None);
    let (stdout, _) = run(&spec);
    let have = |name: &str| Path::new("/dev").join(name).exists();
    let expected: Vec<String> = devices
        .iter()
        .filter(|(name, ..)| have(name))
        .map(|(name, ..)| format!("{name} opened"))
        .collect();
    let got: Vec<&str> = lines(&stdout)
        .into_iter()
        .filter(|l| have(l.split(' ').next().unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert!(
        !expected.is_empty(),
        "this host has neither /dev/kvm nor /dev/loop-control"
    );
}

#[test]
fn an_added_rule_opens_exactly_that_device() {
    vessel::require_root!();
    let kvm = DeviceRule::parse("c 10:232 rw").unwrap();
    let spec = probing(&make_and_probe(&HOST_DEVICES[..2]))
        .devices(Some(DeviceRules::docker_default().allow(kvm)));
    let (stdout, _) = run(&spec);
    let got = lines(&stdout);
    assert_eq!(got.len(), 2, "{got:?}");
    // Without a kvm driver the open still passes the device cgroup and fails in the
    // kernel's char-device lookup: ENXIO or ENODEV by kernel, never EPERM.
    if Path::new("/dev/kvm").exists() {
        assert_eq!(got[0], "kvm opened");
    } else {
        assert!(got[0].starts_with("kvm No such device"), "{got:?}");
    }
    assert_eq!(got[1], "kmsg Operation not permitted");
}

#[test]
fn the_v1_device_list_is_the_allow_list() {
    vessel::require_root!();
    let Layout::V1(_) = Layout::of_this_process().unwrap() else {
        eprintln!("cgroup v2: no devices.list (the BPF program is tested in the VM)");
        return;
    };
    let name = format!("test-{}-devices-list", std::process::id());
    // Counters asked for: on a hybrid host a cgroup that needs no controller would go
    // in the unified hierarchy, with the BPF program instead of devices.list.
    let spec = probing("true").cgroup(CgroupSpec::new(&name, Resources::default()).counting());
    let running = Container::spawn(&spec).unwrap();
    let dir = running
        .cgroup()
        .unwrap()
        .dir_of("devices")
        .unwrap()
        .to_owned();
    let list = std::fs::read_to_string(dir.join("devices.list")).unwrap();
    let mut listed: Vec<&str> = list.lines().collect();
    let rules = DeviceRules::docker_default().v1_lines();
    let mut expected: Vec<&str> = rules.iter().map(String::as_str).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    drop(running);
    assert!(!dir.exists());
}
