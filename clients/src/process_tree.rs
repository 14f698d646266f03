//! Who is whose parent: a process's ancestry read from `/proc`, to show (and check) the
//! chains the real clients build: podman → conmon → the container, containerd → shim →
//! the container, with the runtime nowhere in them once `create` and `start` exited.

use std::fmt;

/// One process of an ancestry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid, as the host numbers it.
    pub pid: i32,
    /// Its parent's pid.
    pub ppid: i32,
    /// The kernel's name for it (`comm`, at most 15 bytes).
    pub comm: String,
    /// Its command line, arguments joined by spaces.
    pub cmdline: String,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.pid, self.comm, self.cmdline)
    }
}

/// Process `pid` as `/proc` shows it now.
pub fn process(pid: i32) -> Result<Process, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("read /proc/{pid}/stat: {e}"))?;
    // comm is in parentheses and may hold spaces or parentheses: cut at the last one.
    let (head, rest) = stat
        .rsplit_once(") ")
        .ok_or_else(|| format!("/proc/{pid}/stat: {stat:?}"))?;
    let comm = head.split_once(" (").map_or("", |(_, c)| c).to_owned();
    let ppid = rest
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("/proc/{pid}/stat has no ppid: {stat:?}"))?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Process {
        pid,
        ppid,
        comm,
        cmdline,
    })
}

/// `pid`, its parent, its parent's parent… up to and including PID 1.
pub fn ancestry(pid: i32) -> Result<Vec<Process>, String> {
    let mut chain = vec![process(pid)?];
    while let Some(last) = chain.last()
        && last.pid > 1
        && chain.len() < 64
    {
        let parent = process(last.ppid)?;
        chain.push(parent);
    }
    Ok(chain)
}

/// The ancestry as an indented tree, the oldest first (as `ps --forest` draws it).
pub fn draw(chain: &[Process]) -> String {
    chain
        .iter()
        .rev()
        .enumerate()
        .map(|(depth, p)| format!("{}{p}", "  ".repeat(depth)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ancestry_ends_at_pid_1_and_starts_with_us() {
        let me = std::process::id() as i32;
        let chain = ancestry(me).unwrap();
        assert_eq!(chain[0].pid, me);
        assert_eq!(chain.last().unwrap().pid, 1);
        for pair in chain.windows(2) {
            assert_eq!(pair[0].ppid, pair[1].pid, "{}", draw(&chain));
        }
    }
}
