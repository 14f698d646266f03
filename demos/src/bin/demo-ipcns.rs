//! # Lesson: the IPC namespace
//!
//! System V IPC objects (shared memory segments, semaphores, message queues) are found by
//! a numeric *key*, and POSIX message queues by a name: global names that any process
//! could guess. An *IPC namespace* gives each container its own set of both, so two
//! containers using the same key never meet, and the host sees neither.
//!
//! The lesson runs a copy of itself in a container to create a shared-memory segment and
//! a POSIX message queue, lists them inside (`/proc/sysvipc/shm`, an `mqueue` mount), and
//! looks for them from the host while the container still holds them.

use std::ffi::CStr;
use std::process::exit;

use vessel::ContainerSpec;
use vessel::test_support::HeldContainer;
use vessel_demos::scratch::ScratchRootfs;
use vessel_demos::{Lesson, Outcome};

const NAME: &str = "demo-ipcns";
const TOOL: &str = "/lesson-ipc";
/// The System V key both sides look for (8279521 in decimal, as /proc/sysvipc prints it).
const KEY: libc::key_t = 0x7e_55e1;
const QUEUE: &CStr = c"/vessel-lesson";

fn main() {
    if std::env::args().nth(1).as_deref() == Some("create") {
        exit(create_inside());
    }
    Lesson::run(
        NAME,
        "IPC objects made in a container exist only in its IPC namespace",
        run,
    )
}

// ANCHOR: create_inside
/// Inside the container: create one segment and one queue, then list what the IPC
/// namespace holds.
fn create_inside() -> i32 {
    // SAFETY: shmget takes plain integers and creates a segment in our IPC namespace.
    let shmid = unsafe { libc::shmget(KEY, 4096, libc::IPC_CREAT | 0o600) };
    // SAFETY: QUEUE is a NUL-terminated name; a null attr asks for the defaults.
    let mq = unsafe {
        libc::mq_open(
            QUEUE.as_ptr(),
            libc::O_CREAT | libc::O_RDWR,
            0o600 as libc::mode_t,
            std::ptr::null::<libc::mq_attr>(),
        )
    };
    if shmid == -1 || mq == -1 {
        eprintln!("create: {}", std::io::Error::last_os_error());
        return 1;
    }
    let shm = std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default();
    for line in shm.lines() {
        let mut fields = line.split_whitespace();
        if let (Some(key), Some(_id), Some(perms), Some(size)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        {
            println!("shm {key:>10} {perms:>5} {size:>6}");
        }
    }
    // POSIX queues are listed by mounting the mqueue filesystem, which shows the queues
    // of the IPC namespace of whoever mounts it.
    let _ = std::fs::create_dir_all("/dev/mqueue");
    // SAFETY: static C strings; mqueue takes no data.
    let mounted = unsafe {
        libc::mount(
            c"mqueue".as_ptr(),
            c"/dev/mqueue".as_ptr(),
            c"mqueue".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if mounted == 0 {
        for entry in std::fs::read_dir("/dev/mqueue")
            .into_iter()
            .flatten()
            .flatten()
        {
            println!("mqueue /{}", entry.file_name().to_string_lossy());
        }
    }
    0
}
// ANCHOR_END: create_inside

fn run(lesson: &mut Lesson) -> Outcome {
    let scratch = ScratchRootfs::new(NAME)?;
    scratch.install_self(TOOL)?;

    lesson.step("in a container with a new IPC namespace, create a segment and a queue");
    lesson.syscall("clone3(CLONE_NEWIPC|…); shmget(0x7e55e1, 4096, IPC_CREAT); mq_open(\"/vessel-lesson\", O_CREAT)");
    lesson.syscall("read /proc/sysvipc/shm; mount -t mqueue on /dev/mqueue and list it");
    let script = format!("{TOOL} create; echo end; readlink /proc/self/ns/ipc; read _; exit 0");
    // Mounting the mqueue filesystem inside needs CAP_SYS_ADMIN, which a container
    // does not keep unless asked (docker's default set).
    let spec = ContainerSpec::new(scratch.path(), ["/bin/sh", "-c", &script])
        .add_capabilities(vessel::security::capabilities::CapSet::of(&["SYS_ADMIN"]));
    let mut held = HeldContainer::start(&spec)?;
    let inside = held.lines_until("end")?;
    let inside_ns = held.next_line()?;
    for line in &inside {
        lesson.note(&format!("| {line}"));
    }
    let key = KEY.to_string();
    lesson.claim(
        "inside, /proc/sysvipc/shm lists the segment (key 8279521) and nothing else",
        inside
            .iter()
            .filter(|l| {
                l.starts_with("shm ")
                    && l.split_whitespace()
                        .nth(1)
                        .is_some_and(|k| k.parse::<i64>().is_ok())
            })
            .count()
            == 1
            && inside
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(key.as_str())),
    );
    lesson.claim(
        "inside, the mqueue filesystem lists the queue",
        inside.iter().any(|l| l == "mqueue /vessel-lesson"),
    );

    lesson.step("look for both from the host, while the container still holds them");
    lesson.syscall(
        "read /proc/sysvipc/shm; shmget(0x7e55e1, 0, 0); mq_open(\"/vessel-lesson\", O_RDONLY)",
    );
    let host_shm = std::fs::read_to_string("/proc/sysvipc/shm")?;
    let listed = host_shm
        .lines()
        .skip(1)
        .any(|l| l.split_whitespace().next() == Some(key.as_str()));
    // SAFETY: shmget with size 0 and no flags only looks the key up.
    let found_shm = unsafe { libc::shmget(KEY, 0, 0) };
    let shm_errno = std::io::Error::last_os_error();
    // SAFETY: QUEUE is a NUL-terminated name; O_RDONLY without O_CREAT only opens.
    let found_mq = unsafe { libc::mq_open(QUEUE.as_ptr(), libc::O_RDONLY) };
    let mq_errno = std::io::Error::last_os_error();
    lesson.see(
        "host shmget(key)",
        if found_shm == -1 {
            format!("{shm_errno}")
        } else {
            "found".into()
        },
    );
    lesson.see(
        "host mq_open(name)",
        if found_mq == -1 {
            format!("{mq_errno}")
        } else {
            "found".into()
        },
    );
    lesson.claim(
        "the host's /proc/sysvipc/shm has no segment with that key",
        !listed,
    );
    lesson.claim(
        "the host cannot find the segment by its key",
        found_shm == -1,
    );
    lesson.claim("the host cannot open the queue by its name", found_mq == -1);
    if found_mq != -1 {
        // SAFETY: a descriptor mq_open just returned.
        unsafe { libc::mq_close(found_mq) };
    }
    let host_ns = std::fs::read_link("/proc/self/ns/ipc")?;
    lesson.see("IPC namespace inside", &inside_ns);
    lesson.see("IPC namespace of the host", host_ns.display());
    lesson.claim(
        "the container's IPC namespace is not the host's",
        !inside_ns.is_empty() && inside_ns != host_ns.to_string_lossy(),
    );

    lesson.step("let the container finish: its IPC namespace, and both objects, go with it");
    let status = held.release()?;
    lesson.see("exit", status);
    lesson.claim("the container exited cleanly", status.success());
    Ok(())
}
