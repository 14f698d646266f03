//! The path and file logic of both managers, run against a fake cgroup tree in a
//! tempdir: which directories are made where, which files get which values in which
//! order, and how the counters are read back. (The kernel's side — that the limits
//! hold — is tested for real in `core/tests/cgroups_*.rs`.)

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn limits() -> Resources {
    Resources {
        memory_bytes: Some(64 << 20),
        memory_and_swap_bytes: None,
        cpu_quota: Some(CpuQuota::per_default_period(20_000)),
        cpu_shares: Some(512),
        cpuset_cpus: Some(CpuSet::parse("1").unwrap()),
        pids_max: Some(16),
        blkio_weight: None,
    }
}

/// A memory limit and nothing else.
fn memory_only() -> Resources {
    Resources {
        memory_bytes: Some(64 << 20),
        ..Resources::default()
    }
}

/// Each written file relative to `root`, with its value.
fn written(cgroup: &Cgroup, root: &Path) -> Vec<(String, String)> {
    cgroup
        .written()
        .iter()
        .map(|w| {
            let rel = w.file.strip_prefix(root).unwrap();
            (rel.display().to_string(), w.value.clone())
        })
        .collect()
}

fn v1_tree(root: &Path) -> Layout {
    let own = |controller: &str, path: &str| V1Hierarchy {
        controllers: vec![controller.to_owned()],
        mount: root.join(controller),
        own: root.join(controller).join(path),
    };
    for c in [
        "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices",
    ] {
        fs::create_dir_all(root.join(c)).unwrap();
    }
    fs::create_dir_all(root.join("memory/process_api/abc")).unwrap();
    write(&root.join("cpuset/cpuset.cpus"), "0-1\n");
    write(&root.join("cpuset/cpuset.mems"), "0\n");
    Layout::V1(vec![
        own("memory", "process_api/abc"),
        own("cpu", ""),
        own("cpuacct", ""),
        own("cpuset", ""),
        own("pids", ""),
        own("freezer", ""),
        own("devices", ""),
    ])
}

/// Each directory of `cgroup` relative to `root`.
fn dirs_below(cgroup: &Cgroup, root: &Path) -> Vec<String> {
    cgroup
        .dirs()
        .iter()
        .map(|d| d.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

#[test]
fn v1_a_container_gets_only_the_hierarchies_it_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let layout = v1_tree(root);
    let memory = memory_only();
    let limited = CgroupSpec::new("m1", memory);
    let cgroup = Cgroup::create_in(&layout, &limited).unwrap();
    let expected = [
        "memory/process_api/abc/vessel/m1",
        "freezer/vessel/m1",
        "devices/vessel/m1",
    ];
    assert_eq!(dirs_below(&cgroup, root), expected);
    // The record names the same directories before they exist.
    let known: Vec<PathBuf> = expected.iter().map(|d| root.join(d)).collect();
    assert_eq!(limited.dirs_in(&layout), known);
    // The counters (`--stats`) add the counted controllers, not cpuset.
    let counted = CgroupSpec::new("m2", Resources::default()).counting();
    let cgroup = Cgroup::create_in(&layout, &counted).unwrap();
    assert_eq!(
        dirs_below(&cgroup, root),
        [
            "memory/process_api/abc/vessel/m2",
            "cpu/vessel/m2",
            "cpuacct/vessel/m2",
            "pids/vessel/m2",
            "freezer/vessel/m2",
            "devices/vessel/m2",
        ]
    );
    // A limit on a controller the container did not start with says so.
    let mut other = limited.clone().counting();
    other.name = "m3".to_owned();
    let mut cgroup = Cgroup::create_in(&layout, &other).unwrap();
    let cpus = Resources {
        cpuset_cpus: Some(CpuSet::parse("0").unwrap()),
        ..Resources::default()
    };
    let message = vessel_error_chain(&cgroup.set(&cpus).unwrap_err());
    assert!(
        message.contains("started without a cpuset limit"),
        "{message}"
    );
}

#[test]
fn v1_final_counters_are_read_only_when_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let layout = v1_tree(root);
    // No limit, no counters: nothing is read (the memory files would not even parse).
    let plain = Cgroup::create_in(&layout, &CgroupSpec::new("f1", Resources::default())).unwrap();
    assert_eq!(plain.final_stats().unwrap(), None);
    // A memory limit without counters: the OOM kills only, for the exit report; the
    // usage files are not there, and reading them would fail.
    let memory = memory_only();
    let limited = Cgroup::create_in(&layout, &CgroupSpec::new("f2", memory.clone())).unwrap();
    let mem = limited.dir_of("memory").unwrap().to_owned();
    write(
        &mem.join("memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    );
    assert_eq!(
        limited.final_stats().unwrap(),
        Some(Stats {
            oom_kills: 2,
            ..Stats::default()
        })
    );
    // With counters, all of them: here the missing usage file is an error.
    let counted = Cgroup::create_in(&layout, &CgroupSpec::new("f3", memory).counting()).unwrap();
    assert!(counted.final_stats().is_err());
}

#[test]
fn v1_makes_one_directory_per_used_hierarchy_under_our_own_cgroups() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cgroup = Cgroup::create_in(&v1_tree(root), &CgroupSpec::new("c1", limits())).unwrap();
    let dirs: Vec<PathBuf> = cgroup
        .dirs()
        .iter()
        .map(|d| d.strip_prefix(root).unwrap().to_owned())
        .collect();
    assert_eq!(
        dirs,
        [
            "memory/process_api/abc/vessel/c1",
            "cpu/vessel/c1",
            "cpuset/vessel/c1",
            "pids/vessel/c1",
            "freezer/vessel/c1",
            "devices/vessel/c1",
        ]
        .map(PathBuf::from)
    );
    assert_eq!(
        written(&cgroup, root),
        [
            (
                "memory/process_api/abc/vessel/c1/memory.limit_in_bytes",
                "67108864"
            ),
            ("cpu/vessel/c1/cpu.cfs_period_us", "100000"),
            ("cpu/vessel/c1/cpu.cfs_quota_us", "20000"),
            ("cpu/vessel/c1/cpu.shares", "512"),
            ("cpuset/vessel/c1/cpuset.cpus", "1"),
            ("pids/vessel/c1/pids.max", "16"),
        ]
        .map(|(f, v)| (f.to_owned(), v.to_owned()))
    );
    // A new v1 cpuset (and vessel's parent on the way) got the parent's CPUs and nodes.
    assert_eq!(
        fs::read_to_string(root.join("cpuset/vessel/cpuset.mems")).unwrap(),
        "0"
    );
    assert_eq!(
        fs::read_to_string(root.join("cpuset/vessel/c1/cpuset.mems")).unwrap(),
        "0"
    );
    assert_eq!(
        fs::read_to_string(root.join("cpuset/vessel/cpuset.cpus")).unwrap(),
        "0-1"
    );
}

#[test]
fn v1_memory_and_swap_limits_keep_memsw_above_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut cgroup = Cgroup::create_in(
        &v1_tree(root),
        &CgroupSpec::new("c2", Resources::default()).counting(),
    )
    .unwrap();
    let memsw = root.join("memory/process_api/abc/vessel/c2/memory.memsw.limit_in_bytes");
    let names = |cgroup: &Cgroup| -> Vec<String> {
        cgroup
            .written()
            .iter()
            .map(|w| w.file.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    // Lowering from "unlimited": the limit first, then memsw down to it.
    write(&memsw, "9223372036854771712\n");
    let mem = |bytes| Resources {
        memory_bytes: Some(bytes),
        ..Resources::default()
    };
    cgroup.set(&mem(64 << 20)).unwrap();
    assert_eq!(
        names(&cgroup),
        ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
    );
    // Raising above the current memsw: memsw first, then the limit.
    cgroup.set(&mem(128 << 20)).unwrap();
    assert_eq!(
        names(&cgroup)[2..],
        ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    );
    assert_eq!(fs::read_to_string(&memsw).unwrap(), "134217728");
}

#[test]
fn v1_counters_come_from_each_controllers_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cgroup = Cgroup::create_in(
        &v1_tree(root),
        &CgroupSpec::new("c3", Resources::default()).counting(),
    )
    .unwrap();
    let mem = cgroup.dir_of("memory").unwrap().to_owned();
    write(&mem.join("memory.usage_in_bytes"), "4096\n");
    write(&mem.join("memory.max_usage_in_bytes"), "67108864\n");
    write(&mem.join("memory.failcnt"), "12\n");
    write(
        &mem.join("memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    );
    write(
        &cgroup.dir_of("cpuacct").unwrap().join("cpuacct.usage"),
        "600000000\n",
    );
    write(
        &cgroup.dir_of("cpu").unwrap().join("cpu.stat"),
        "nr_periods 30\nnr_throttled 28\nthrottled_time 2400000000\nnr_bursts 0\n",
    );
    let pids = cgroup.dir_of("pids").unwrap();
    write(&pids.join("pids.current"), "16\n");
    write(&pids.join("pids.events"), "max 5\n");
    write(&mem.join("memory.memsw.failcnt"), "3\n");
    assert_eq!(
        cgroup.stats().unwrap(),
        Stats {
            memory_bytes: 4096,
            memory_peak_bytes: Some(64 << 20),
            memory_limit_hits: 15,
            oom_kills: 1,
            cpu_usage_ns: 600_000_000,
            cpu_periods: 30,
            cpu_throttled_periods: 28,
            cpu_throttled_ns: 2_400_000_000,
            pids: 16,
            pids_peak: None,
            pids_limit_hits: 5,
        }
    );
}

#[test]
fn v1_cgroup_parent_relative_and_absolute() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let layout = v1_tree(root);
    let spec = CgroupSpec::new("c4", Resources::default()).parent("ci/jobs");
    let cgroup = Cgroup::create_in(&layout, &spec).unwrap();
    let mem = cgroup.dir_of("memory").unwrap();
    assert_eq!(mem, root.join("memory/process_api/abc/ci/jobs/c4"));
    let spec = CgroupSpec::new("c5", Resources::default()).parent("/batch");
    let cgroup = Cgroup::create_in(&layout, &spec).unwrap();
    assert_eq!(
        cgroup.dir_of("memory").unwrap(),
        root.join("memory/batch/c5")
    );
}

fn v2_tree(root: &Path) -> Layout {
    let own = root.join("user.slice/vessel-caller.scope");
    write(
        &own.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    );
    write(&own.join("cgroup.subtree_control"), "");
    // The kernel fills a new directory's cgroup.controllers from its parent's
    // subtree_control; the fake tree has vessel's parent ready-made.
    write(
        &own.join("vessel/cgroup.controllers"),
        "cpuset cpu memory pids\n",
    );
    write(
        &own.join("vessel/cgroup.subtree_control"),
        "cpuset cpu memory pids\n",
    );
    Layout::V2 {
        mount: root.to_owned(),
        own,
    }
}

#[test]
fn v2_makes_one_directory_and_writes_the_unified_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cgroup = Cgroup::create_in(&v2_tree(root), &CgroupSpec::new("c6", limits())).unwrap();
    let dir = root.join("user.slice/vessel-caller.scope/vessel/c6");
    assert_eq!(cgroup.dirs(), std::slice::from_ref(&dir));
    assert!(matches!(cgroup.manager(), CgroupManager::V2(_)));
    let prefix = "user.slice/vessel-caller.scope/vessel/c6/";
    assert_eq!(
        written(&cgroup, root),
        [
            ("memory.max", "67108864"),
            ("cpu.max", "20000 100000"),
            ("cpu.weight", "20"),
            ("cpuset.cpus", "1"),
            ("pids.max", "16"),
        ]
        .map(|(f, v)| (format!("{prefix}{f}"), v.to_owned()))
    );
    // Our own cgroup was asked to hand its controllers down (one `+name` per write, so
    // the fake file holds the last one, io); vessel's parent already had them all.
    let own_control =
        fs::read_to_string(root.join("user.slice/vessel-caller.scope/cgroup.subtree_control"))
            .unwrap();
    assert_eq!(own_control, "+io");
    let vessel_control = fs::read_to_string(
        root.join("user.slice/vessel-caller.scope/vessel/cgroup.subtree_control"),
    )
    .unwrap();
    assert_eq!(vessel_control, "cpuset cpu memory pids\n");
}

#[test]
fn v2_turns_swap_off_where_swap_is_accounted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut cgroup =
        Cgroup::create_in(&v2_tree(root), &CgroupSpec::new("c7", Resources::default())).unwrap();
    let dir = cgroup.dirs()[0].clone();
    write(&dir.join("memory.swap.max"), "max\n");
    cgroup
        .set(&Resources {
            memory_bytes: Some(32 << 20),
            ..Resources::default()
        })
        .unwrap();
    assert_eq!(
        fs::read_to_string(dir.join("memory.swap.max")).unwrap(),
        "0"
    );
    assert_eq!(
        fs::read_to_string(dir.join("memory.max")).unwrap(),
        "33554432"
    );
}

#[test]
fn v2_counters_come_from_the_unified_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cgroup =
        Cgroup::create_in(&v2_tree(root), &CgroupSpec::new("c8", Resources::default())).unwrap();
    let dir = cgroup.dirs()[0].clone();
    write(&dir.join("memory.current"), "8192\n");
    write(
        &dir.join("memory.events"),
        "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n",
    );
    write(
        &dir.join("cpu.stat"),
        "usage_usec 600000\nuser_usec 590000\nsystem_usec 10000\nnr_periods 30\nnr_throttled 28\nthrottled_usec 2400000\n",
    );
    write(&dir.join("pids.current"), "3\n");
    write(&dir.join("pids.events"), "max 2\n");
    write(&dir.join("pids.peak"), "9\n");
    let stats = cgroup.stats().unwrap();
    assert_eq!(
        stats,
        Stats {
            memory_bytes: 8192,
            memory_peak_bytes: None, // no memory.peak before Linux 5.19
            memory_limit_hits: 7,
            oom_kills: 1,
            cpu_usage_ns: 600_000_000,
            cpu_periods: 30,
            cpu_throttled_periods: 28,
            cpu_throttled_ns: 2_400_000_000,
            pids: 3,
            pids_peak: Some(9),
            pids_limit_hits: 2,
        }
    );
    write(&dir.join("memory.peak"), "65536\n");
    assert_eq!(cgroup.stats().unwrap().memory_peak_bytes, Some(65536));
}

#[test]
fn v2_shares_map_onto_weights_like_runc() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262_144), 10_000);
}

#[test]
fn v2_a_limit_without_its_controller_says_which_controller() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut cgroup =
        Cgroup::create_in(&v2_tree(root), &CgroupSpec::new("c9", Resources::default())).unwrap();
    // The kernel lists what the parent handed down; here, no pids.
    write(&cgroup.dirs()[0].join("cgroup.controllers"), "cpu memory\n");
    let error = cgroup
        .set(&Resources {
            pids_max: Some(4),
            ..Resources::default()
        })
        .unwrap_err();
    let message = vessel_error_chain(&error);
    assert!(
        message.contains("the pids controller is not in its cgroup.controllers"),
        "{message}"
    );
    // And the counters of missing controllers read as 0 instead of failing.
    assert_eq!(cgroup.stats().unwrap(), Stats::default());
}

/// `--blkio-weight 300` set on `cgroup` (which has whichever weight files the test made).
fn set_weight(cgroup: &mut Cgroup) -> super::error::Result<()> {
    cgroup.set(&Resources {
        blkio_weight: Some(300),
        ..Resources::default()
    })
}

#[test]
fn v1_blkio_weight_goes_to_the_file_this_kernel_has_or_says_why_none() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let Layout::V1(mut hierarchies) = v1_tree(root) else {
        unreachable!()
    };
    fs::create_dir_all(root.join("blkio")).unwrap();
    hierarchies.push(V1Hierarchy {
        controllers: vec!["blkio".to_owned()],
        mount: root.join("blkio"),
        own: root.join("blkio"),
    });
    // A cgroup the user placed gets every hierarchy, blkio included, so the weight can
    // be set after the start (`vessel update`); `vessel` here is the default's path.
    let spec = CgroupSpec::new("c10", Resources::default()).parent("vessel");
    let mut cgroup = Cgroup::create_in(&Layout::V1(hierarchies), &spec).unwrap();
    // No CFQ, no BFQ (this machine's kernel): refused, naming both files.
    let message = vessel_error_chain(&set_weight(&mut cgroup).unwrap_err());
    assert!(
        message.contains("neither blkio.weight nor blkio.bfq.weight"),
        "{message}"
    );
    // BFQ loaded: its file takes the weight.
    let bfq = root.join("blkio/vessel/c10/blkio.bfq.weight");
    write(&bfq, "100\n");
    set_weight(&mut cgroup).unwrap();
    assert_eq!(fs::read_to_string(&bfq).unwrap(), "300");
}

#[test]
fn v2_blkio_weight_needs_the_io_controller_then_a_weight_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut cgroup = Cgroup::create_in(
        &v2_tree(root),
        &CgroupSpec::new("c11", Resources::default()),
    )
    .unwrap();
    let dir = cgroup.dirs()[0].clone();
    write(&dir.join("cgroup.controllers"), "cpu memory pids\n");
    let message = vessel_error_chain(&set_weight(&mut cgroup).unwrap_err());
    assert!(
        message.contains("the io controller is not in its cgroup.controllers"),
        "{message}"
    );
    write(&dir.join("cgroup.controllers"), "cpu io memory pids\n");
    let message = vessel_error_chain(&set_weight(&mut cgroup).unwrap_err());
    assert!(
        message.contains("neither io.weight nor io.bfq.weight"),
        "{message}"
    );
    write(&dir.join("io.weight"), "default 100\n");
    set_weight(&mut cgroup).unwrap();
    assert_eq!(fs::read_to_string(dir.join("io.weight")).unwrap(), "300");
}

fn vessel_error_chain(error: &dyn std::error::Error) -> String {
    crate::error_chain::chain(error)
}

/// `vessel run` reads the machine's cgroup layout once, when it places the spec: the
/// record's directories and the cgroup [`Cgroup::create`] makes come from that one
/// reading, so a spec placed in the fake tree is made there, not in this machine's.
#[test]
fn a_placed_spec_is_created_in_the_layout_it_was_placed_in() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let layout = v1_tree(root);
    let memory = memory_only();
    let mut spec = CgroupSpec::new("p1", memory);
    spec.placed = Some(Placement::of(&spec, layout.clone()));
    assert_eq!(spec.layout().unwrap(), layout);
    let recorded = spec.dirs_in(&spec.layout().unwrap());
    let cgroup = Cgroup::create(&spec).unwrap();
    assert_eq!(cgroup.dirs(), recorded);
    assert!(recorded.iter().all(|d| d.starts_with(root) && d.is_dir()));
}
