//! What the kernel says about a pid: is it still the process we started?

/// The process's start time, in clock ticks since boot: field 22 of `/proc/PID/stat`.
/// Together with the pid it names one process for good, since a recycled pid gets a
/// later start time. `None` if the process does not exist.
pub fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and
/// may contain spaces and ')', so counting starts after the *last* ')'.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state) onwards; field 22 is the 20th of those.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is alive and is the process that started at `start_time`.
pub fn is_same_process(pid: libc::pid_t, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_a_tricky_name() {
        let stat = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50";
        assert_eq!(parse_start_time(stat), Some(987_654));
    }

    #[test]
    fn our_own_start_time_is_stable_and_a_dead_pid_has_none() {
        let me = std::process::id() as libc::pid_t;
        let first = start_time(me).expect("our own stat");
        assert!(is_same_process(me, first));
        assert!(!is_same_process(me, first + 1));
        assert_eq!(start_time(i32::MAX), None);
    }
}
