//! A static probe run *inside* containers by the security tests: one system call per
//! subcommand, its result printed as `ok`, `ok N` or `errno N`. Built by `mod.rs` with
//! rustc and `+crt-static` (the default rootfs has no compiler and no keyctl tool), using
//! only `std` and the C library's `syscall`/`ioctl`, so it needs no crate.

use std::ffi::CString;

unsafe extern "C" {
    fn syscall(number: i64, ...) -> i64;
    fn ioctl(fd: i32, request: u64, ...) -> i32;
    fn __errno_location() -> *mut i32;
}

const SYS_SOCKET: i64 = 41;
const SYS_UNSHARE: i64 = 272;
const SYS_ADD_KEY: i64 = 248;
const SYS_KEYCTL: i64 = 250;
const SYS_PERSONALITY: i64 = 135;
const X32_BIT: i64 = 0x4000_0000;
const TIOCSTI: u64 = 0x5412;
const KEYCTL_GET_KEYRING_ID: i64 = 0;
const KEY_SPEC_SESSION_KEYRING: i64 = -3;
const CLONE_NEWUSER: i64 = 0x1000_0000;

fn report(ret: i64) {
    if ret < 0 {
        // SAFETY: __errno_location returns this thread's errno slot.
        println!("errno {}", unsafe { *__errno_location() });
    } else {
        println!("ok {ret}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("ids") {
        // "UID GID GROUPS CAPEFF" from /proc/self/status: real ids, supplementary groups.
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        let groups = field("Groups:").join(",");
        println!(
            "{} {} {} {}",
            field("Uid:")[0],
            field("Gid:")[0],
            if groups.is_empty() { "-" } else { &groups },
            field("CapEff:")[0]
        );
        return;
    }
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| arg(i).parse::<i64>().expect("a number");
    // SAFETY (for every call below): raw system calls with integer arguments or
    // pointers to live, NUL-terminated buffers of this function.
    let ret = unsafe {
        match arg(0) {
            "tiocsti" => {
                let byte = b'#';
                i64::from(ioctl(num(1) as i32, TIOCSTI, &byte as *const u8))
            }
            "session-keyring" => syscall(
                SYS_KEYCTL,
                KEYCTL_GET_KEYRING_ID,
                KEY_SPEC_SESSION_KEYRING,
                0i64,
            ),
            "keyctl" => syscall(SYS_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0i64),
            "keyctl-x32" => syscall(
                SYS_KEYCTL | X32_BIT,
                KEYCTL_GET_KEYRING_ID,
                KEY_SPEC_SESSION_KEYRING,
                0i64,
            ),
            "add-key" => {
                let kind = CString::new("user").unwrap();
                let name = CString::new(arg(1)).unwrap();
                let payload = b"planted";
                syscall(
                    SYS_ADD_KEY,
                    kind.as_ptr(),
                    name.as_ptr(),
                    payload.as_ptr(),
                    payload.len(),
                    KEY_SPEC_SESSION_KEYRING,
                )
            }
            "unshare-user" => syscall(SYS_UNSHARE, CLONE_NEWUSER),
            "socket" => syscall(SYS_SOCKET, num(1), 1i64, 0i64),
            "personality" => syscall(SYS_PERSONALITY, num(1)),
            other => {
                eprintln!("probe: unknown subcommand {other:?}");
                std::process::exit(2);
            }
        }
    };
    report(ret);
}
