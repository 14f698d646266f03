//! The runtime's runc-style command line, as podman, containerd and docker drive it:
//! `create` / `start` / `state` / `kill` / `delete`, hooks, `--pid-file`,
//! `--console-socket`, `exec --process`, `pause` / `resume`. Every runtime goes through
//! the same adapter ([`Container`]); vessel through its own CLI, not its library.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{Check, Ctx, Failure, Outcome, ensure};
use crate::console_socket;
use crate::runtime::oci::OciRuntime;
use crate::runtime::oci_lifecycle::{CONTAINER_TIMEOUT, Container, alive, code, wait_gone};
use crate::runtime::{Request, Runtime};
use crate::without_ptrace::Opened;

/// The `oci` area.
pub static CHECKS: [Check; 10] = [
    Check {
        area: "oci",
        name: "lifecycle-states",
        claim: "`state` says created after create (the program not yet run), running after start, stopped once it exits; delete removes it.",
        needs: &[],
        run: lifecycle_states,
    },
    Check {
        area: "oci",
        name: "kill-created",
        claim: "A created container can be killed: its init dies without running the program, and `state` says stopped.",
        needs: &[],
        run: kill_created,
    },
    Check {
        area: "oci",
        name: "delete-refused-while-running",
        claim: "`delete` of a running container fails and leaves it running; `delete --force` kills and removes it.",
        needs: &[],
        run: delete_refused_while_running,
    },
    Check {
        area: "oci",
        name: "hooks-order-and-state",
        claim: "All six hook points run in order (prestart, createRuntime, createContainer at create; startContainer, poststart at start; poststop at delete) with the state on stdin and only their own environment; createContainer in the container's mount namespace before pivot_root, startContainer in its root before the program is executed.",
        needs: &[],
        run: hooks_order_and_state,
    },
    Check {
        area: "oci",
        name: "pid-file",
        claim: "`create --pid-file` has written the init's host pid, the one `state` reports, when create returns.",
        needs: &[],
        run: pid_file,
    },
    Check {
        area: "oci",
        name: "created-init-keeps-its-binary",
        claim: "While a created container waits for start, its init (the runtime's own code until the program is executed) does not hand out the runtime's binary on the host: a root process without CAP_SYS_PTRACE, as a container's root is, gets nothing or a copy (runc's sealed memfd) from its /proc/PID/exe (CVE-2019-5736's way out).",
        needs: &[],
        run: created_init_keeps_its_binary,
    },
    Check {
        area: "oci",
        name: "console-socket",
        claim: "With process.terminal the runtime sends a pty master over --console-socket, sized as consoleSize, and the program's stdio is its slave.",
        needs: &[],
        run: console_socket_check,
    },
    Check {
        area: "oci",
        name: "exec-process",
        claim: "`exec --process FILE` runs FILE's args with its env, cwd and user in the running container's namespaces.",
        needs: &[],
        run: exec_process,
    },
    Check {
        area: "oci",
        name: "exec-tty",
        claim: "`exec --process` with terminal sends a pty master over --console-socket, sized as the process's consoleSize, and the process's stdio is its slave.",
        needs: &[],
        run: exec_tty,
    },
    Check {
        area: "oci",
        name: "pause-resume",
        claim: "`pause` freezes the container's cgroup (state paused, the program silent) and `resume` thaws it.",
        // Not a controller on cgroup v2 (every cgroup has cgroup.freeze): no need named.
        needs: &[],
        run: pause_resume,
    },
];

/// The runtime's command line: the peer's binary, or vessel's own CLI.
fn cli(ctx: &Ctx) -> Result<OciRuntime, Failure> {
    match ctx.runtime {
        Runtime::Vessel => Ok(OciRuntime::vessel(ctx.world)?),
        Runtime::Oci(oci) => Ok(oci.clone()),
    }
}

/// A bundle running the probe that reports, then holds until its stdin closes.
fn holding(ctx: &Ctx, edit: impl FnOnce(&mut Value, &Path)) -> Result<Container, Failure> {
    let runtime = cli(ctx)?;
    Ok(Container::bundle(
        &runtime,
        ctx.world,
        &Request::probe(&["report", "hold"]),
        edit,
    )?)
}

/// Starts a created container and reads the probe's report: it certainly runs.
fn start_and_hear(container: &mut Container) -> Result<Value, String> {
    container.ok(&["start", &container.id.clone()])?;
    let line = container.line()?;
    let report: Value =
        serde_json::from_str(&line).map_err(|e| format!("the probe printed {line:?}: {e}"))?;
    if report["kind"] != "report" {
        return Err(format!("expected the probe's report, got {line}"));
    }
    Ok(report)
}

fn lifecycle_states(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    c.expect_status("created", "after create")?;
    let pid = c.pid()?;
    ensure(alive(pid), || {
        format!("after create, the init {pid} is not alive")
    })?;
    ensure(!c.printed_anything()?, || {
        "after create, the program already printed (it must wait for start)".into()
    })?;
    let report = start_and_hear(&mut c)?;
    ensure(report["pid"] == 1, || {
        format!("the program is not pid 1 of its namespace: {report}")
    })?;
    c.expect_status("running", "after start")?;
    ensure(c.pid()? == pid, || {
        "start changed the pid state reports".into()
    })?;
    c.close_stdin();
    wait_gone(pid, "the probe told to exit")?;
    c.expect_status("stopped", "after the program exited")?;
    c.ok(&["delete", &c.id.clone()])?;
    let gone = c.run(&["state", &c.id.clone()])?;
    ensure(!gone.status.success(), || {
        "after delete, `state` still answers".into()
    })
}

fn kill_created(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    let pid = c.pid()?;
    c.ok(&["kill", &c.id.clone(), "KILL"])?;
    wait_gone(pid, "the created init after kill KILL")?;
    c.expect_status("stopped", "after kill of a created container")?;
    c.close_stdin();
    ensure(c.line().is_err(), || {
        "the killed container still ran the program".into()
    })?;
    c.ok(&["delete", &c.id.clone()])?;
    Ok(())
}

fn delete_refused_while_running(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    let pid = c.pid()?;
    start_and_hear(&mut c)?;
    let refused = c.run(&["delete", &c.id.clone()])?;
    ensure(!refused.status.success(), || {
        "`delete` of a running container succeeded".into()
    })?;
    ensure(alive(pid), || {
        format!("`delete` was refused, yet the init {pid} is gone")
    })?;
    c.expect_status("running", "after a refused delete")?;
    c.send("report")?;
    c.line()
        .map_err(|e| format!("after a refused delete the probe no longer answers: {e}"))?;
    c.ok(&["delete", "--force", &c.id.clone()])?;
    wait_gone(pid, "after delete --force")?;
    let gone = c.run(&["state", &c.id.clone()])?;
    ensure(!gone.status.success(), || {
        "after delete --force, `state` still answers".into()
    })
}

/// The six hook points in the order a container meets them, the status each hook's
/// state must have, and whether the hook runs inside the container (its pid then as the
/// container sees it: 1).
const HOOKS: [(&str, &str, bool); 6] = [
    ("prestart", "creating", false),
    ("createRuntime", "creating", false),
    ("createContainer", "creating", true),
    ("startContainer", "created", true),
    ("poststart", "running", false),
    ("poststop", "stopped", false),
];

/// Where the startContainer hook finds the bundle's `hooks/` directory, bound there.
const HOOKS_IN_CONTAINER: &str = "/mnt";

/// Each hook logs its point and environment to `hooks/hooks.log` and saves its stdin
/// as `hooks/POINT.json`; the two in-container ones also save their mount namespace.
/// createContainer is a script in the bundle (a path only the runtime's tree has) and
/// notes whether the rootfs's /proc is mounted; startContainer is a script at
/// /mnt (a path only the container's root has) and notes what pid 1 executes.
fn hook_config(config: &mut Value, bundle: &Path) -> Result<(), String> {
    let dir = bundle.join("hooks");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let rootfs = config["root"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut hooks = serde_json::Map::new();
    for (point, _, inside) in HOOKS {
        let at = match point {
            "startContainer" => HOOKS_IN_CONTAINER.to_owned(),
            _ => dir.display().to_string(),
        };
        let mut script = format!(
            "printf '%s %s %s\\n' {point} \"${{HOOK_MARK:-none}}\" \"${{SUITE_LEAK:-none}}\" >> {at}/hooks.log; cat > {at}/{point}.json\n"
        );
        if inside {
            script += &format!("readlink /proc/self/ns/mnt > {at}/{point}.mnt\n");
        }
        let path = match point {
            "createContainer" => {
                script += &format!(
                    "test -e {rootfs}/proc/self/ns/mnt && echo mounted > {at}/{point}.rootfs\n"
                );
                dir.join("create-container.sh").display().to_string()
            }
            "startContainer" => {
                // A runtime whose pid 1 is not dumpable by now (youki's init, after
                // dropping capabilities) makes this unreadable: the hook must not fail
                // for that, and the check below then cannot tell what pid 1 runs.
                script += &format!(
                    "readlink /proc/1/exe > {at}/{point}.exe || echo unreadable > {at}/{point}.exe\n"
                );
                format!("{HOOKS_IN_CONTAINER}/start-container.sh")
            }
            // The host's /bin/sh: these run in the runtime's namespaces.
            _ => "/bin/sh".to_owned(),
        };
        let hook = if path == "/bin/sh" {
            json!({"path": path, "args": ["sh", "-c", script], "env": ["HOOK_MARK=given"]})
        } else {
            let file = dir.join(Path::new(&path).file_name().unwrap_or_default());
            std::fs::write(&file, format!("#!/bin/sh\n{script}"))
                .and_then(|()| {
                    std::fs::set_permissions(
                        &file,
                        std::os::unix::fs::PermissionsExt::from_mode(0o755),
                    )
                })
                .map_err(|e| format!("write {}: {e}", file.display()))?;
            json!({"path": path, "args": [point], "env": ["HOOK_MARK=given"]})
        };
        hooks.insert(point.to_owned(), json!([hook]));
    }
    config["hooks"] = Value::Object(hooks);
    let mounts = config["mounts"]
        .as_array_mut()
        .ok_or("the bundle has no mounts list")?;
    mounts.push(json!({"destination": HOOKS_IN_CONTAINER, "type": "bind",
        "source": dir, "options": ["rbind", "rw"]}));
    Ok(())
}

fn hooks_order_and_state(ctx: &Ctx) -> Outcome {
    let mut edited = Ok(());
    let mut c = holding(ctx, |config, bundle| edited = hook_config(config, bundle))?;
    edited?;
    let dir = c.bundle.join("hooks");
    // Were the runtime to pass its own environment on, the hooks would see this.
    c.env.push(("SUITE_LEAK".into(), "leaked".into()));
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let expect = |n: usize, when: &str| -> Outcome {
        let got: Vec<String> = read("hooks.log").lines().map(str::to_owned).collect();
        let want: Vec<String> = HOOKS[..n]
            .iter()
            .map(|(p, _, _)| format!("{p} given none"))
            .collect();
        ensure(got == want, || {
            format!("{when}, the hooks that ran were {got:?}, expected {want:?}")
        })
    };
    c.create(&[])?;
    let pid = c.pid()?;
    expect(3, "after create")?;
    let init_mnt = std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .map_err(|e| format!("the init's mount namespace: {e}"))?;
    start_and_hear(&mut c)?;
    expect(5, "after start")?;
    c.close_stdin();
    wait_gone(pid, "the probe told to exit")?;
    c.ok(&["delete", &c.id.clone()])?;
    expect(6, "after delete")?;
    for point in ["createContainer", "startContainer"] {
        let mnt = read(&format!("{point}.mnt"));
        ensure(mnt.trim() == init_mnt.to_string_lossy(), || {
            format!(
                "the {point} hook ran in mount namespace {:?}, not the container's {}",
                mnt.trim(),
                init_mnt.display()
            )
        })?;
    }
    ensure(read("createContainer.rootfs") == "mounted\n", || {
        "the createContainer hook ran before the rootfs's /proc was mounted".into()
    })?;
    let exe = read("startContainer.exe");
    ensure(!exe.trim().ends_with("vessel-probe"), || {
        format!("the startContainer hook ran after the program was executed (pid 1 is {exe:?})")
    })?;
    let bundle = c
        .bundle
        .canonicalize()
        .map_err(|e| format!("bundle: {e}"))?;
    for (point, status, inside) in HOOKS {
        let text = read(&format!("{point}.json"));
        let state: Value = serde_json::from_str(&text).map_err(|e| {
            format!("the {point} hook's stdin was not the state JSON ({e}): {text:?}")
        })?;
        ensure(state["id"] == c.id.as_str(), || {
            format!("{point}: state id {}, not {}", state["id"], c.id)
        })?;
        ensure(state["status"] == status, || {
            format!("{point}: state status {}, not {status:?}", state["status"])
        })?;
        let given = state["bundle"].as_str().map(Path::new);
        ensure(
            given.and_then(|b| b.canonicalize().ok()).as_deref() == Some(bundle.as_path()),
            || {
                format!(
                    "{point}: state bundle {}, not {}",
                    state["bundle"],
                    bundle.display()
                )
            },
        )?;
        let want_pid = if inside { 1 } else { pid };
        if point != "poststop" {
            ensure(state["pid"] == want_pid, || {
                format!("{point}: state pid {}, not {want_pid}", state["pid"])
            })?;
        }
    }
    Ok(())
}

fn pid_file(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    let file = c.bundle.join("init.pid");
    c.create(&["--pid-file", &file.display().to_string()])?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("create returned but {}: {e}", file.display()))?;
    let written: i32 = text
        .trim()
        .parse()
        .map_err(|_| format!("the pid file holds {text:?}, not a pid"))?;
    let reported = c.pid()?;
    ensure(written == reported, || {
        format!("the pid file says {written}, state says {reported}")
    })?;
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    ensure(
        ns(&written.to_string()).is_some() && ns(&written.to_string()) != ns("self"),
        || {
            format!(
                "pid {written} from the pid file is not a process in a PID namespace of its own"
            )
        },
    )
}

fn created_init_keeps_its_binary(ctx: &Ctx) -> Outcome {
    let runtime = cli(ctx)?;
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    let exe = format!("/proc/{}/exe", c.pid()?);
    match crate::without_ptrace::try_open(Path::new(&exe), &runtime.binary)? {
        Opened::ThatFile => Err(format!(
            "a root process without CAP_SYS_PTRACE opened {exe}, which is {} itself, while \
             the init waited for start",
            runtime.binary.display()
        )
        .into()),
        // A copy (runc's sealed memfd) or nothing at all: the host's file is out of reach.
        Opened::Another | Opened::Refused(libc::EACCES | libc::EPERM) => Ok(()),
        Opened::Refused(errno) => Err(format!(
            "opening {exe} failed with {}, not the refusal (EACCES or EPERM) this checks for",
            std::io::Error::from_raw_os_error(errno)
        )
        .into()),
    }
}

/// The terminal size the bundle asks for.
const CONSOLE_ROWS: u16 = 33;
const CONSOLE_COLS: u16 = 77;

/// What the program prints on a terminal: whether its stdin and stdout are one.
const TTY_SCRIPT: &str = "if [ -t 0 ] && [ -t 1 ]; then echo on-a-tty; else echo not-a-tty; fi";

/// Reads the terminal `master` until the program says whether it is on a tty; checks it
/// is, and that the terminal has the size consoleSize asked for.
fn expect_on_sized_tty(master: &std::os::fd::OwnedFd) -> Outcome {
    let file = std::fs::File::from(master.try_clone().map_err(|e| e.to_string())?);
    let mut pending = Vec::new();
    let mut seen = Vec::new();
    let said = loop {
        match crate::runtime::oci_lifecycle::read_line(&file, &mut pending, CONTAINER_TIMEOUT)? {
            Some(line) if line.contains("a-tty") => break line,
            Some(line) => seen.push(line),
            None => return Err(format!("the terminal closed; it showed {seen:?}").into()),
        }
    };
    ensure(said.trim() == "on-a-tty", || {
        format!("through the pty the program said {said:?}: its stdio is not the terminal")
    })?;
    let size = console_socket::window_size(master)?;
    ensure(size == (CONSOLE_ROWS, CONSOLE_COLS), || {
        format!(
            "the terminal is {size:?} (rows, cols), consoleSize asked {CONSOLE_ROWS}x{CONSOLE_COLS}"
        )
    })
}

fn exec_tty(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    start_and_hear(&mut c)?;
    let process = json!({
        "terminal": true,
        "consoleSize": {"height": CONSOLE_ROWS, "width": CONSOLE_COLS},
        "user": {"uid": 0, "gid": 0},
        "args": ["/bin/sh", "-c", TTY_SCRIPT],
        "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "TERM=xterm"],
        "cwd": "/",
    });
    let file = c.bundle.join("exec-tty.json");
    std::fs::write(&file, process.to_string()).map_err(|e| format!("write process.json: {e}"))?;
    let socket = c.bundle.join("exec-console.sock");
    let receiver = console_socket::receive_one(&socket, CONTAINER_TIMEOUT)?;
    // Detached, with a pid file, as containerd's shim and conmon exec with a terminal.
    let pid_file = c.bundle.join("exec.pid").display().to_string();
    let out = c.run(&[
        "exec",
        "--detach",
        "--pid-file",
        &pid_file,
        "--console-socket",
        &socket.display().to_string(),
        "--process",
        &file.display().to_string(),
        &c.id.clone(),
    ]);
    let master = receiver
        .join()
        .map_err(|_| "the console socket's thread panicked".to_owned())?;
    let out = out?;
    ensure(out.status.success(), || {
        format!(
            "exec --process with a terminal exited {}: {}",
            code(&out),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    let master = master?;
    console_socket::pty_number(&master)?;
    expect_on_sized_tty(&master)
}

fn console_socket_check(ctx: &Ctx) -> Outcome {
    let runtime = cli(ctx)?;
    let mut c = Container::bundle(
        &runtime,
        ctx.world,
        &Request::shell(TTY_SCRIPT),
        |config, _| {
            config["process"]["terminal"] = json!(true);
            config["process"]["consoleSize"] =
                json!({"height": CONSOLE_ROWS, "width": CONSOLE_COLS});
        },
    )?;
    let socket = c.bundle.join("console.sock");
    let receiver = console_socket::receive_one(&socket, CONTAINER_TIMEOUT)?;
    let created = c.create(&["--console-socket", &socket.display().to_string()]);
    let master = receiver
        .join()
        .map_err(|_| "the console socket's thread panicked".to_owned())?;
    created?;
    let master = master?;
    console_socket::pty_number(&master)?;
    c.ok(&["start", &c.id.clone()])?;
    expect_on_sized_tty(&master)
}

fn exec_process(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    let pid = c.pid()?;
    start_and_hear(&mut c)?;
    let process = json!({
        "terminal": false,
        "user": {"uid": 1000, "gid": 1001},
        "args": ["/bin/sh", "-c",
            "echo \"$EXEC_MARK $(pwd) $(id -u):$(id -g)\"; for n in mnt pid uts; do readlink /proc/self/ns/$n; done"],
        "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "EXEC_MARK=from-process-json"],
        "cwd": "/tmp",
    });
    let file = c.bundle.join("process.json");
    std::fs::write(&file, process.to_string()).map_err(|e| format!("write process.json: {e}"))?;
    let out = c.run(&[
        "exec",
        "--process",
        &file.display().to_string(),
        &c.id.clone(),
    ])?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure(out.status.success(), || {
        format!(
            "exec --process exited {}: {} {}",
            code(&out),
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    let mut lines = stdout.lines();
    let first = lines.next().unwrap_or_default();
    ensure(first == "from-process-json /tmp 1000:1001", || {
        format!("the exec'd process said {first:?}, expected \"from-process-json /tmp 1000:1001\"")
    })?;
    for ns in ["mnt", "pid", "uts"] {
        let inside = lines.next().unwrap_or_default();
        let init = std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
            .map_err(|e| format!("read the init's {ns} namespace: {e}"))?;
        ensure(Path::new(inside) == init, || {
            format!(
                "the exec'd process is in {ns} namespace {inside:?}, the init in {}",
                init.display()
            )
        })?;
    }
    Ok(())
}

/// Whether the container whose init is `pid` has a frozen cgroup, from the kernel's files.
fn frozen(pid: i32) -> Result<bool, String> {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map_err(|e| format!("read /proc/{pid}/cgroup: {e}"))?;
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next(), fields.next(), fields.next());
        let (Some(controllers), Some(path)) = (controllers, path) else {
            continue;
        };
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "freezer") {
            let file = Path::new("/sys/fs/cgroup/freezer")
                .join(path)
                .join("freezer.state");
            let state = std::fs::read_to_string(&file)
                .map_err(|e| format!("read {}: {e}", file.display()))?;
            return Ok(state.trim() == "FROZEN");
        }
    }
    // cgroup v2 alone: the unified hierarchy's cgroup.events.
    let path = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| format!("process {pid} has no freezer cgroup: {cgroups}"))?;
    let file = Path::new("/sys/fs/cgroup")
        .join(path.trim_start_matches('/'))
        .join("cgroup.events");
    let events =
        std::fs::read_to_string(&file).map_err(|e| format!("read {}: {e}", file.display()))?;
    Ok(events.lines().any(|l| l == "frozen 1"))
}

fn pause_resume(ctx: &Ctx) -> Outcome {
    let mut c = holding(ctx, |_, _| {})?;
    c.create(&[])?;
    let pid = c.pid()?;
    start_and_hear(&mut c)?;
    c.ok(&["pause", &c.id.clone()])?;
    c.expect_status("paused", "after pause")?;
    ensure(frozen(pid)?, || {
        "after pause, the container's cgroup is not frozen".into()
    })?;
    // A bound, not a synchronisation: a frozen probe must not answer at all.
    c.send("report")?;
    ensure(
        !c.printed_anything_within(Duration::from_millis(300))?,
        || "the paused probe answered".into(),
    )?;
    c.ok(&["resume", &c.id.clone()])?;
    c.expect_status("running", "after resume")?;
    ensure(!frozen(pid)?, || {
        "after resume, the cgroup is still frozen".into()
    })?;
    c.line()
        .map_err(|e| format!("after resume the probe did not answer: {e}"))?;
    Ok(())
}
