//! A one-line progress display per blob, on a terminal only: scripts and logs get the
//! final summary lines and nothing else.

use std::io::{IsTerminal, Write};

/// Progress of one transfer.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    shown: u64,
    tty: bool,
}

impl Progress {
    /// Starts showing `label` (e.g. "pulling sha256:0123abcd"), `total` bytes expected.
    pub fn new(label: String, total: u64, already: u64) -> Progress {
        let progress = Progress {
            label,
            total,
            done: already,
            shown: 0,
            tty: std::io::stderr().is_terminal(),
        };
        progress.draw();
        progress
    }

    /// `n` more bytes moved.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        // Redraw every 1% at most: a terminal is slower than a loopback socket.
        if self.done - self.shown >= (self.total / 100).max(1 << 16) {
            self.shown = self.done;
            self.draw();
        }
    }

    /// Ends the line.
    pub fn finish(&mut self) {
        self.shown = self.done;
        self.draw();
        if self.tty {
            let _ = writeln!(std::io::stderr());
        }
    }

    fn draw(&self) {
        if self.tty {
            let _ = write!(
                std::io::stderr(),
                "\r{} {:>10} / {:<10}",
                self.label,
                mb(self.done),
                mb(self.total)
            );
        }
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
