//! # Lesson: a volume is a bind mount the host never sees
//!
//! `-v HOST:CTR` makes a *bind mount*: the same directory, visible at a second place. The
//! container's child process makes it inside its own mount namespace, after the overlay
//! root is mounted and before `pivot_root`, so:
//!
//! - the container sees the host directory at `CTR` and writes straight through to it,
//!   past every image layer (so `vessel commit` never packs volume data);
//! - the host's mount table never lists it, and it disappears with the namespace;
//! - `:ro` makes it read-only: the bind is a detached copy (`open_tree`) made read-only
//!   with `mount_setattr` before `move_mount` attaches it, onto a mount point resolved
//!   inside the container's root (`openat2` with `RESOLVE_IN_ROOT`).
//!
//! The lesson keeps the container running while it looks at both mount tables:
//! `/proc/self/mountinfo` (the host's) and `/proc/PID/mountinfo` (the container's).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::Path;

use vessel::image::{ContainerFs, Store};
use vessel::process::stdio::Stdio;
use vessel::rootfs::volume::Volume;
use vessel::{Container, ContainerSpec};
use vessel_demos::scratch::ScratchDir;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-volume";
const ID: &str = "0000000d0001";

/// What the container does: use both volumes, say "ready", then wait for a line on stdin.
const SCRIPT: &str = "cat /data/hello.txt; \
    echo 'written in the container' > /data/from-container.txt; \
    (echo x > /config/x) 2>/dev/null && echo writable || echo read-only; \
    echo ready; read line";

fn main() {
    Lesson::run(
        NAME,
        "a volume is visible in the container, invisible on the host, and written through to the host",
        |lesson| {
            let scratch = ScratchDir::for_lesson(NAME);
            run(lesson, scratch.path())
        },
    )
}

fn run(lesson: &mut Lesson, scratch: &Path) -> Outcome {
    lesson.step("make two host directories: one to share, one to share read-only");
    let shared = scratch.join("shared");
    let config = scratch.join("config");
    fs::create_dir_all(&shared)?;
    fs::create_dir_all(&config)?;
    fs::write(shared.join("hello.txt"), "written on the host\n")?;
    fs::write(config.join("app.conf"), "setting = 1\n")?;
    lesson.see("shared", shared.display());
    lesson.see("config", config.display());

    lesson
        .step("start a container of the base image with -v shared:/data and -v config:/config:ro");
    // ANCHOR: demo_volumes
    lesson.syscall("in the child, after the overlay mount, before pivot_root:");
    lesson.syscall(
        "  target = openat2(root, \"data\", O_PATH, RESOLVE_IN_ROOT)  (mkdirat if missing)",
    );
    lesson.syscall("  move_mount(open_tree(shared, OPEN_TREE_CLONE|AT_RECURSIVE), target)");
    lesson.syscall("  config the same, with mount_setattr(MOUNT_ATTR_RDONLY) before move_mount");
    let store = Store::open(scratch.join("store"))?;
    let image = store.image("base")?;
    let argv: Vec<String> = ["/bin/sh", "-c", SCRIPT].map(String::from).to_vec();
    let layers = ContainerFs::create(&store, &ID.parse()?, &image, ID, &argv)?;
    let spec = ContainerSpec::new(layers.merged(), argv)
        .overlay(layers.overlay())
        .hostname(ID)
        .volume(Volume::parse(&format!("{}:/data", shared.display()))?)
        .volume(Volume::parse(&format!("{}:/config:ro", config.display()))?);
    // ANCHOR_END: demo_volumes
    let (stdin_read, mut stdin_write) = std::io::pipe()?;
    let (stdout_read, stdout_write) = std::io::pipe()?;
    let mut running = Container::spawn_with_stdio(
        &spec,
        Stdio {
            stdin: Some(stdin_read.as_fd()),
            stdout: Some(stdout_write.as_fd()),
            stderr: None,
        },
    )?;
    drop((stdin_read, stdout_write));
    let mut lines = BufReader::new(stdout_read).lines();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line?;
        if line == "ready" {
            break;
        }
        said.push(line);
    }
    lesson.see("the container says", said.join(" | "));
    lesson.claim(
        "the container reads the host's file at /data",
        said.first().map(String::as_str) == Some("written on the host"),
    );
    lesson.claim(
        "/config is read-only inside",
        said.get(1).map(String::as_str) == Some("read-only"),
    );

    lesson.step("while it runs, compare the two mount tables");
    lesson.syscall(
        "read /proc/PID/mountinfo (the container's) and /proc/self/mountinfo (the host's)",
    );
    let inside = fs::read_to_string(format!("/proc/{}/mountinfo", running.pid()))?;
    let host = fs::read_to_string("/proc/self/mountinfo")?;
    let in_container = |target: &str| {
        inside
            .lines()
            .filter(|l| l.split(' ').nth(4) == Some(target))
            .count()
    };
    lesson.see(
        "container mounts on /data, /config",
        format!("{}, {}", in_container("/data"), in_container("/config")),
    );
    let on_host = host
        .lines()
        .filter(|l| l.contains(&*scratch.to_string_lossy()))
        .count();
    lesson.see("host mounts under the scratch directory", on_host);
    lesson.claim(
        "the container's mount table has /data and /config",
        in_container("/data") == 1 && in_container("/config") == 1,
    );
    let ro = inside.lines().any(|l| {
        l.split(' ').nth(4) == Some("/config")
            && l.split(' ')
                .nth(5)
                .is_some_and(|o| o.split(',').any(|f| f == "ro"))
    });
    lesson.claim("the container's /config mount is flagged ro", ro);
    lesson.claim(
        "the host's mount table has neither (nor the overlay)",
        on_host == 0,
    );

    lesson.step("let the container finish, then look at the host directory");
    writeln!(stdin_write)?;
    drop(stdin_write);
    let status = running.wait()?;
    lesson.see("container", status);
    let written = fs::read_to_string(shared.join("from-container.txt")).unwrap_or_default();
    lesson.see("shared/from-container.txt", format!("{:?}", written));
    lesson.claim(
        "the container's write reached the host directory",
        written == "written in the container\n",
    );
    lesson.claim(
        "it went past the layers: the container's upper layer does not have it",
        !layers.upper().join("data/from-container.txt").exists(),
    );
    lesson.claim(
        "nothing was written into the read-only volume",
        !config.join("x").exists(),
    );

    lesson.step("remove the container");
    layers.remove()?;
    let host_after = fs::read_to_string("/proc/self/mountinfo")?;
    lesson.claim(
        "no mount of the container is left on the host",
        !host_after.contains(&*scratch.to_string_lossy()),
    );
    Ok(())
}
