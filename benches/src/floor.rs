//! The start-up floor: `clone3(flags)` + `execve` of a static `true` + `waitpid`, with
//! nothing else. Whatever vessel adds on top of this is vessel's own cost.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use vessel::process::clone::{Cloned, clone3};
use vessel::rootfs::is_static_executable;

/// A prepared `execve` of a program that exits 0 at once.
#[derive(Debug)]
pub struct TrueProgram {
    path: CString,
    args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: [*const libc::c_char; 1],
}

impl TrueProgram {
    /// A static `true`: busybox's when there is a static busybox (no dynamic loader, so
    /// the floor is the kernel's cost), else the host's `/bin/true`.
    pub fn find() -> TrueProgram {
        let busybox = Path::new("/bin/busybox");
        let (path, args) = if is_static_executable(busybox).unwrap_or(false) {
            (busybox.to_owned(), vec!["true"])
        } else {
            (PathBuf::from("/bin/true"), vec!["true"])
        };
        let path = CString::new(path.into_os_string().into_encoded_bytes()).expect("no NUL");
        let args: Vec<CString> = args
            .into_iter()
            .map(|a| CString::new(a).expect("no NUL"))
            .collect();
        let argv = args
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        TrueProgram {
            path,
            args,
            argv,
            envp: [std::ptr::null()],
        }
    }

    /// Whether this is a static binary (the floor is only meaningful then).
    pub fn describe(&self) -> String {
        format!("{:?} {:?}", self.path, self.args)
    }

    // ANCHOR: floor
    /// Creates a child with `flags`, which execs `true`; waits for it. Panics if the child
    /// did not exit 0, so a broken floor cannot pass for a fast one.
    pub fn run(&self, flags: u64) {
        // SAFETY: the child only calls execve on memory prepared above and `_exit`: both
        // async-signal-safe, whatever other threads the benchmark runner has.
        let cloned = unsafe { clone3(flags) }.expect("clone3");
        let pid = match cloned {
            Cloned::Child => {
                // SAFETY: path, argv and envp are NUL-terminated strings and
                // null-terminated pointer arrays owned by `self`, alive in this copy.
                unsafe {
                    libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr());
                    libc::_exit(127)
                }
            }
            Cloned::Parent { pid, .. } => pid,
        };
        let mut status = 0;
        // SAFETY: `pid` is our unreaped child; `status` is a live int.
        let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(reaped, pid, "waitpid");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "true failed with wait status {status:#x} (flags {flags:#x})"
        );
    }
    // ANCHOR_END: floor
}
