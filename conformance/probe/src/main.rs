//! vessel-probe: runs *inside* a container under test and prints, as one JSON object per
//! line, what the container's world looks like (its pids, hostname, id maps, mounts,
//! namespaces, cgroup, capabilities) and what happened when it tried something (fork
//! until refused, eat memory, write a read-only volume, break out of a chroot).
//!
//! Usage: `vessel-probe [--path P]... ACTION...` where ACTION is one of
//! `report`, `orphan`, `background`, `spin MS`, `eat BYTES`, `forks N`, `write PATH`,
//! `stat PATH`, `cat PATH`, `breakout`, `mount-tmpfs PATH`, `sethostname NAME`,
//! `kill-init`, `signal0 PID`, `clocks`, `exit CODE`; the attacks `open-wronly PATH`,
//! `read-only PATH`, `peek PATH`, `tiocsti`, `fds NAME`, `device PATH c|b MAJOR MINOR
//! r|w|rw`, `syscalls`, `add-key DESCRIPTION`, `core-pattern`, `swap-forever A B`; or `hold`: read more actions from stdin,
//! one line at a time, until end-of-file (so the suite can look at the container from
//! the host while it certainly still runs, without sleeping).
//!
//! It is linked statically, so it runs on any rootfs.

mod actions;
mod attacks;
mod json;
mod report;

use std::io::{self, BufRead, Write};

/// Runs the actions in `words`; returns false when told to stop reading stdin.
fn run(words: &[String], paths: &mut Vec<String>) -> Result<(), String> {
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let mut arg = |what: &str| {
            words
                .next()
                .cloned()
                .ok_or_else(|| format!("{word} needs {what}"))
        };
        let number = |text: String| {
            text.parse::<i64>()
                .map_err(|_| format!("{word}: {text:?} is not a number"))
        };
        let line = match word.as_str() {
            "--path" => {
                paths.push(arg("a path")?);
                continue;
            }
            "report" => report::report(paths).render(),
            "orphan" => actions::orphan().render(),
            "background" => actions::background().render(),
            "spin" => actions::spin(number(arg("milliseconds")?)?).render(),
            "eat" => actions::eat(number(arg("a byte count")?)? as usize).render(),
            "forks" => actions::forks(number(arg("a count")?)? as usize).render(),
            "write" => actions::write(&arg("a path")?).render(),
            "stat" => actions::stat(&arg("a path")?).render(),
            "cat" => actions::cat(&arg("a path")?).render(),
            "breakout" => actions::breakout(paths),
            "mount-tmpfs" => actions::mount_tmpfs(&arg("a path")?).render(),
            "sethostname" => actions::sethostname(&arg("a name")?).render(),
            "kill-init" => actions::kill_init().render(),
            "clocks" => actions::clocks().render(),
            "signal0" => actions::signal0(number(arg("a pid")?)? as i32).render(),
            "open-wronly" => attacks::open_wronly(&arg("a path")?).render(),
            "read-only" => attacks::read_only(&arg("a path")?).render(),
            "peek" => attacks::peek(&arg("a path")?).render(),
            "tiocsti" => attacks::tiocsti().render(),
            "fds" => attacks::fds(&arg("a file name")?).render(),
            "device" => {
                let path = arg("a path")?;
                let kind = arg("c or b")?;
                let major = number(arg("a major number")?)? as u32;
                let minor = number(arg("a minor number")?)? as u32;
                attacks::device(&path, &kind, major, minor, &arg("r, w or rw")?).render()
            }
            "syscalls" => attacks::syscalls().render(),
            "add-key" => attacks::add_key(&arg("a description")?).render(),
            "core-pattern" => attacks::core_pattern().render(),
            "swap-forever" => {
                let a = arg("a path")?;
                attacks::swap_forever(&a, &arg("a second path")?).render()
            }
            "exit" => {
                let code = number(arg("an exit code")?)?;
                let _ = io::stdout().flush();
                std::process::exit(code as i32);
            }
            "hold" => {
                hold(paths)?;
                continue;
            }
            other => return Err(format!("unknown action {other:?}")),
        };
        let mut out = io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| format!("write stdout: {e}"))?;
        out.flush().map_err(|e| format!("flush stdout: {e}"))?;
    }
    Ok(())
}

/// Reads lines of actions from stdin until end-of-file.
fn hold(paths: &mut Vec<String>) -> Result<(), String> {
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("read stdin: {e}"))?;
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        run(&words, paths)?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = if args.is_empty() {
        vec!["report".to_owned()]
    } else {
        args
    };
    if let Err(message) = run(&args, &mut Vec::new()) {
        eprintln!("vessel-probe: {message}");
        std::process::exit(2);
    }
}
