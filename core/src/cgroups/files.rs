//! Reading and writing cgroup files. The files *are* the interface: every limit is a
//! `write` of a decimal string, every statistic a `read` of one or of `key value` lines.
//! Each helper names the file in its error, so a failure says exactly which one;
//! [`wait_for_state`] waits until a file (the freezer's, `cgroup.events`) says what is
//! wanted.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{CgroupError, CgroupStep, Lack, Result};

/// One value vessel wrote to a cgroup file, kept so lessons can show the real files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file, e.g. `/sys/fs/cgroup/memory/…/memory.limit_in_bytes`.
    pub file: PathBuf,
    /// What was written to it, e.g. `67108864`.
    pub value: String,
}

/// Writes `value` to `file` (one `write(2)`, as the kernel expects).
pub(crate) fn write(file: &Path, value: &str) -> Result<()> {
    std::fs::write(file, value).map_err(|source| {
        CgroupError::io(CgroupStep::Write {
            value: value.to_owned(),
            file: file.to_owned(),
        })(source)
    })
}

/// Reads `file` whole.
pub(crate) fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .map_err(|source| CgroupError::io(CgroupStep::Read(file.to_owned()))(source))
}

/// Reads a file holding one number; `max` (cgroup v2's "no limit") reads as `u64::MAX`.
pub(crate) fn read_u64(file: &Path) -> Result<u64> {
    let text = read(file)?;
    parse_u64(text.trim()).ok_or_else(|| {
        CgroupError::lacking(
            CgroupStep::Read(file.to_owned()),
            Lack::NotANumber(text.trim().to_owned()),
        )
    })
}

/// Like [`read_u64`], or `None` when the kernel does not have the file (a controller
/// feature this kernel lacks, such as v2 `memory.peak` before Linux 5.19).
pub(crate) fn read_u64_if_present(file: &Path) -> Result<Option<u64>> {
    if file.exists() {
        read_u64(file).map(Some)
    } else {
        Ok(None)
    }
}

fn parse_u64(text: &str) -> Option<u64> {
    match text {
        "max" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

/// The value of `key` in a flat keyed file such as `cpu.stat` or `memory.events`
/// (`key value` per line); 0 when the key is absent, as the kernel omits zero-valued
/// keys in some versions.
pub(crate) fn keyed(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| parse_u64(v.trim()))
        .unwrap_or(0)
}

/// The pids listed in a `cgroup.procs` file.
pub(crate) fn read_pids(file: &Path) -> Result<Vec<libc::pid_t>> {
    Ok(read(file)?
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect())
}

/// Waits (at most 10 s) until `file`'s contents satisfy `done`. cgroup v2 event files
/// (`cgroup.events`) signal a change with `POLLPRI`, so the wait sleeps in `poll`; v1
/// files have no such event, and the 10 ms poll timeout re-reads them.
pub(crate) fn wait_for_state(file: &Path, done: impl Fn(&str) -> bool) -> Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let open = std::fs::File::open(file)
            .map_err(CgroupError::io(CgroupStep::Open(file.to_owned())))?;
        if done(&read(file)?) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CgroupError::io(CgroupStep::Wait(file.to_owned()))(
                std::io::Error::from(std::io::ErrorKind::TimedOut),
            ));
        }
        let mut fds = [PollFd::new(open.as_fd(), PollFlags::POLLPRI)];
        let _ = poll(&mut fds, PollTimeout::from(10u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_files_read_by_key() {
        let text = "nr_periods 10\nnr_throttled 4\nthrottled_time 123\n";
        assert_eq!(keyed(text, "nr_throttled"), 4);
        assert_eq!(keyed(text, "nr_periods"), 10);
        assert_eq!(keyed(text, "missing"), 0);
        assert_eq!(
            keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"),
            2
        );
    }

    #[test]
    fn errors_name_the_file() {
        let error = read_u64(Path::new("/nonexistent/memory.max")).unwrap_err();
        assert_eq!(error.to_string(), "read /nonexistent/memory.max");
        assert_eq!(parse_u64("max"), Some(u64::MAX));
    }
}
