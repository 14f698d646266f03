//! Booting the guest under `qemu-system-x86_64` and reading its serial console.
//!
//! The guest has no disk and no network: the kernel gets the initramfs, prints to the
//! serial port (`console=ttyS0`, which `-nographic` connects to qemu's stdout), and the
//! guest's init ends with one line, `VESSEL-VM-EXIT=<code>`, then powers off. The host
//! echoes the console as it comes, keeps it, and reads the code from that line. No line
//! means the guest never got that far: the report then shows the console's last lines.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The line the guest's init prints last.
pub const EXIT_SENTINEL: &str = "VESSEL-VM-EXIT=";

/// How qemu runs the guest's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation: fast, when /dev/kvm works (not nested here: it hangs).
    Kvm,
    /// qemu's own translator: slow, works everywhere.
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// One boot of the guest.
#[derive(Debug, Clone)]
pub struct Boot {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub cmdline: String,
    pub memory_mib: u32,
    pub cpus: u32,
    pub accel: Accel,
    pub timeout: Duration,
    /// Echo console lines to our stdout as they arrive.
    pub echo: bool,
}

/// How a boot ended.
#[derive(Debug)]
pub enum Ending {
    /// The guest printed its exit line: the checks' exit code.
    Finished(i32),
    /// qemu exited without the exit line (the guest panicked, init died, qemu failed).
    NoExitLine(String),
    /// The time ran out; qemu was killed.
    TimedOut,
}

/// What the console showed, and how it ended.
#[derive(Debug)]
pub struct Console {
    pub lines: Vec<String>,
    pub ending: Ending,
    pub took: Duration,
}

impl Console {
    /// The last `n` lines, for an error report.
    pub fn tail(&self, n: usize) -> String {
        let start = self.lines.len().saturating_sub(n);
        self.lines[start..].join("\n")
    }
}

/// Boots the guest and waits for it to power off (or for the timeout).
pub fn boot(boot: &Boot) -> Result<Console, String> {
    let started = Instant::now();
    let mut command = Command::new("qemu-system-x86_64");
    command
        .args(["-accel", boot.accel.name()])
        .args(["-m", &boot.memory_mib.to_string()])
        .args(["-smp", &boot.cpus.to_string()])
        // The serial console on stdio, no display, no network card, no reboot on panic.
        .args(["-nographic", "-no-reboot", "-nic", "none"])
        .arg("-kernel")
        .arg(&boot.kernel)
        .arg("-initrd")
        .arg(&boot.initrd)
        .args(["-append", &boot.cmdline])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("start qemu-system-x86_64: {e} (is qemu-system-x86 installed?)"))?;
    let (sender, lines) = mpsc::channel::<String>();
    let readers = [
        child.stdout.take().map(|out| forward(out, sender.clone())),
        child.stderr.take().map(|err| forward(err, sender.clone())),
    ];
    drop(sender);

    let deadline = started + boot.timeout;
    let mut seen = Vec::new();
    let mut code = None;
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if boot.echo {
                    println!("vm| {line}");
                }
                if code.is_none() {
                    code = exit_code(&line);
                }
                seen.push(line);
            }
            // Both pipes closed: qemu has exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child.wait().map_err(|e| format!("wait for qemu: {e}"))?;
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    let ending = match (code, timed_out) {
        (Some(code), _) => Ending::Finished(code),
        (None, true) => Ending::TimedOut,
        (None, false) => Ending::NoExitLine(format!("qemu {status}")),
    };
    Ok(Console {
        lines: seen,
        ending,
        took: started.elapsed(),
    })
}

/// Sends each line `from` produces, without terminal escapes, until it closes.
fn forward(
    from: impl Read + Send + 'static,
    to: mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = strip_escapes(&String::from_utf8_lossy(&buf));
            buf.clear();
            if to.send(line).is_err() {
                break;
            }
        }
    })
}

/// The code of an exit line (`…VESSEL-VM-EXIT=3`), anywhere in `line`: a kernel message
/// may have been printed in front of it.
fn exit_code(line: &str) -> Option<i32> {
    let after = &line[line.find(EXIT_SENTINEL)? + EXIT_SENTINEL.len()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Drops ANSI escape sequences (the firmware clears the screen) and line-end noise.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_line_is_found_even_behind_a_kernel_message() {
        assert_eq!(exit_code("VESSEL-VM-EXIT=0"), Some(0));
        assert_eq!(exit_code("[   12.3] reboot: VESSEL-VM-EXIT=17 "), Some(17));
        assert_eq!(exit_code("echo VESSEL-VM-EXIT=$code"), None);
        assert_eq!(exit_code("ok - something"), None);
    }

    #[test]
    fn escapes_are_stripped() {
        assert_eq!(strip_escapes("\x1b[2J\x1b[0mSeaBIOS\r\n"), "SeaBIOS");
        assert_eq!(strip_escapes("c\x1b[?7lLinux"), "cLinux");
    }
}
