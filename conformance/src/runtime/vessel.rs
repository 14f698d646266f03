//! The vessel adapter: the probe started through vessel's library, exactly as the CLI
//! would start a command.

use std::cell::RefCell;
use std::fs::File;
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use vessel::cgroups::{CgroupSpec, CpuQuota, Resources};
use vessel::cli::error_chain;
use vessel::namespaces::user::IdMapping;
use vessel::process::pipe::Pipe;
use vessel::{Container, ContainerSpec, Namespace, Namespaces, Running, Stdio};

use vessel::process::tenant::Tenant;

use super::{CONTROLLERS, Exec, Request, Session, USERNS_COUNT, USERNS_FIRST_HOST_ID};
use crate::world::World;

/// The cgroup parent of every container the suite starts with vessel (below vessel's
/// own cgroup), so a leak is easy to see and never mixed up with other containers.
pub const CGROUP_PARENT: &str = "vessel-conformance";

/// A cgroup name no other container of this run uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The vessel spec for `request`: the probe on the test rootfs, in its own cgroup.
pub fn spec_for(world: &World, request: &Request) -> ContainerSpec {
    // The same namespaces the OCI bundle asks for: vessel's defaults plus network and
    // cgroup (which `vessel run` adds with --network none and --cgroupns).
    let namespaces = Namespaces::container_default()
        .with(Namespace::Network)
        .with(Namespace::Cgroup);
    let mut spec = ContainerSpec::new(request.rootfs_in(world), request.argv())
        .namespaces(namespaces)
        .add_capabilities(request.extra_capabilities);
    if let Some(name) = &request.hostname {
        spec = spec.hostname(name);
    }
    if request.userns {
        spec = spec.id_mapping(IdMapping::shifted(USERNS_FIRST_HOST_ID, USERNS_COUNT));
    }
    for volume in &request.volumes {
        spec = spec.volume(volume.clone());
    }
    let resources = Resources {
        memory_bytes: request.limits.memory,
        cpu_quota: request.limits.cpu.map(|(quota_us, period_us)| CpuQuota {
            quota_us,
            period_us,
        }),
        pids_max: request.limits.pids,
        ..Resources::default()
    };
    let parent = world
        .cgroup_parent
        .clone()
        .unwrap_or_else(|| CGROUP_PARENT.into());
    spec.cgroup(CgroupSpec::new(unique_name("c"), resources).parent(parent))
}

/// Starts `request` with vessel.
pub fn start(world: &World, request: &Request) -> Result<Session, String> {
    start_spec(&spec_for(world, request))
}

/// Starts any vessel spec with the probe's pipes (the layer checks add an overlay).
pub fn start_spec(spec: &ContainerSpec) -> Result<Session, String> {
    let pipe = || Pipe::new().map_err(|e| error_chain(&e));
    let (stdin, stdout, stderr) = (pipe()?, pipe()?, pipe()?);
    let running = Container::spawn_with_stdio(
        spec,
        Stdio {
            stdin: Some(stdin.read.as_fd()),
            stdout: Some(stdout.write.as_fd()),
            stderr: Some(stderr.write.as_fd()),
        },
    )
    .map_err(|e| format!("vessel could not start the probe: {}", error_chain(&e)))?;
    // Only the container may hold these ends, or end-of-file would never come.
    drop((stdin.read, stdout.write, stderr.write));
    let host_pid = running.pid();
    let cgroup = running
        .cgroup()
        .map(|cg| {
            CONTROLLERS
                .iter()
                .filter_map(|c| Some(((*c).to_owned(), cg.dir_of(c)?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let running = Rc::new(RefCell::new(running));
    let for_kill = Rc::clone(&running);
    let mut session = Session::new(
        File::from(stdin.write),
        File::from(stdout.read),
        File::from(stderr.read),
        Box::new(move || wait(&running)),
        Box::new(move |signal| for_kill.borrow().kill(signal).map_err(|e| error_chain(&e))),
    );
    session.known_pid = Some(host_pid);
    session.exec_with = Some(Box::new(move |argv| exec(host_pid, argv)));
    session.cgroup = cgroup;
    Ok(session)
}

/// Starts `argv` in the container whose first process is `pid`, the way `vessel exec`
/// does: a [`Tenant`] joins its namespaces, root and cgroups with `setns`.
fn exec(pid: i32, argv: &[String]) -> Result<Exec, String> {
    let tenant = Tenant::of_pid(pid).map_err(|e| error_chain(&e))?;
    let pipe = || Pipe::new().map_err(|e| error_chain(&e));
    let (stdin, stdout) = (pipe()?, pipe()?);
    let mut running = tenant
        .spawn_with_stdio(
            &ContainerSpec::new("/", argv.to_vec()),
            Stdio {
                stdin: Some(stdin.read.as_fd()),
                stdout: Some(stdout.write.as_fd()),
                stderr: None,
            },
        )
        .map_err(|e| {
            format!(
                "vessel could not exec into the container: {}",
                error_chain(&e)
            )
        })?;
    drop((stdin.read, stdout.write));
    Ok(Exec::new(
        File::from(stdin.write),
        File::from(stdout.read),
        Box::new(move || {
            running
                .wait()
                .map(|s| s.code())
                .map_err(|e| error_chain(&e))
        }),
    ))
}

fn wait(running: &RefCell<Running>) -> Result<i32, String> {
    let status = running
        .borrow_mut()
        .wait()
        .map_err(|e| format!("wait for the container: {}", error_chain(&e)))?;
    Ok(status.code())
}
