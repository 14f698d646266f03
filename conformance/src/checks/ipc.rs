//! IPC namespace: System V objects of the host are invisible inside.

use super::support::{Report, own_ns, report_of};
use crate::check::{Check, Ctx, Outcome, ensure};
use crate::runtime::Request;

/// The key of the System V objects the host creates (decimal in /proc/sysvipc): one per
/// suite process, so two suites at once never share (or remove) each other's.
fn key() -> libc::key_t {
    0x7e55_0000 | (std::process::id() & 0xffff) as libc::key_t
}

pub const CHECKS: [Check; 2] = [
    Check {
        area: "ipc",
        name: "own-namespace",
        claim: "The container has an IPC namespace of its own.",
        needs: &[],
        run: own_namespace,
    },
    Check {
        area: "ipc",
        name: "host-sysv-invisible",
        claim: "A System V message queue and shared memory segment of the host are invisible inside.",
        needs: &[],
        run: host_sysv_invisible,
    },
];

fn own_namespace(ctx: &Ctx) -> Outcome {
    let report = report_of(ctx, &[])?;
    ensure(own_ns(&report, "ipc"), || {
        "the container shares the host's IPC namespace".to_owned()
    })
}

/// A message queue and a shared memory segment on the host, removed when dropped.
struct HostSysv {
    msg: i32,
    shm: i32,
}

impl HostSysv {
    fn create() -> Result<HostSysv, String> {
        // SAFETY: msgget and shmget take only integers.
        let (msg, shm) = unsafe {
            (
                libc::msgget(key(), libc::IPC_CREAT | 0o600),
                libc::shmget(key(), 4096, libc::IPC_CREAT | 0o600),
            )
        };
        let objects = HostSysv { msg, shm };
        if msg < 0 || shm < 0 {
            return Err(format!(
                "create System V objects on the host: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(objects)
    }
}

impl Drop for HostSysv {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID ignores the buffer argument, so null is allowed.
        unsafe {
            if self.msg >= 0 {
                libc::msgctl(self.msg, libc::IPC_RMID, std::ptr::null_mut());
            }
            if self.shm >= 0 {
                libc::shmctl(self.shm, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
    }
}

fn host_sysv_invisible(ctx: &Ctx) -> Outcome {
    let _objects = HostSysv::create()?;
    let key = key().to_string();
    let host_msg = std::fs::read_to_string("/proc/sysvipc/msg").unwrap_or_default();
    ensure(host_msg.split_whitespace().any(|k| k == key), || {
        format!("the host itself does not list its queue {key} in /proc/sysvipc/msg")
    })?;
    // A control: the probe can read the table at all, so an empty list means empty.
    let finished = ctx.runtime.run(
        ctx.world,
        &Request::probe(&["cat", "/proc/sysvipc/msg", "report"]),
    )?;
    let table = finished.line("cat")?;
    ensure(
        table["errno"] == 0 && table["text"].as_str().unwrap_or_default().contains("msqid"),
        || format!("the probe cannot read /proc/sysvipc/msg inside, so it proves nothing: {table}"),
    )?;
    let report = Report::from(finished.line("report")?)?;
    ensure(!report.sysv_msg_keys.contains(&key), || {
        format!("the host's message queue {key} is visible inside")
    })?;
    ensure(!report.sysv_shm_keys.contains(&key), || {
        format!("the host's shared memory segment {key} is visible inside")
    })
}
