//! The shared frame of every vessel lesson: numbered steps, what each step does and
//! sees, and a `✔`/`✘` line for every claim, with a non-zero exit if any claim fails.
//!
//! A lesson reads top to bottom like the chapter that goes with it:
//!
//! ```no_run
//! use vessel_demos::{Lesson, Outcome};
//!
//! fn main() {
//!     Lesson::run("demo-uts", "a container can have its own hostname", run)
//! }
//!
//! fn run(lesson: &mut Lesson) -> Outcome {
//!     lesson.step("ask the kernel for our hostname");
//!     lesson.syscall("uname(2)");
//!     let name = nix::unistd::gethostname()?;
//!     lesson.see("host hostname", name.to_string_lossy());
//!     lesson.claim("the hostname is not empty", !name.is_empty());
//!     Ok(())
//! }
//! ```

pub mod cgroup_view;
pub mod helper;
pub mod layer_view;
pub mod net_lab;
pub mod scratch;

use std::fmt::Display;

/// What a lesson's body returns: an error when a step it depends on could not be done.
pub type Outcome = Result<(), Box<dyn std::error::Error>>;

/// One run of a lesson: prints as it goes and counts the claims.
#[derive(Debug)]
pub struct Lesson {
    steps: u32,
    claims: u32,
    failed: u32,
}

impl Lesson {
    /// The whole life of a lesson binary: checks for root, prints the idea, runs `body`,
    /// and exits 0 only if every claim held. An error from `body` counts as a failed claim.
    pub fn run(name: &str, idea: &str, body: impl FnOnce(&mut Lesson) -> Outcome) -> ! {
        require_root(name);
        let mut lesson = Lesson::start(name, idea);
        let code = match body(&mut lesson) {
            Ok(()) => lesson.finish(),
            Err(error) => lesson.abort("run the lesson", error.as_ref()),
        };
        std::process::exit(code)
    }

    /// Prints the lesson's name and its idea in one sentence.
    pub fn start(name: &str, idea: &str) -> Lesson {
        println!("{name}: {idea}");
        Lesson {
            steps: 0,
            claims: 0,
            failed: 0,
        }
    }

    /// Starts the next numbered step.
    pub fn step(&mut self, what: &str) {
        self.steps += 1;
        println!();
        println!("[{}] {what}", self.steps);
    }

    /// Names the system call or file the step uses.
    pub fn syscall(&self, call: &str) {
        println!("    kernel: {call}");
    }

    /// Reports something observed.
    pub fn see(&self, what: &str, value: impl Display) {
        println!("    see: {what} = {value}");
    }

    /// Prints a line of explanation.
    pub fn note(&self, text: &str) {
        println!("    {text}");
    }

    /// Checks one claim and prints `✔` or `✘`. Returns whether it held.
    pub fn claim(&mut self, claim: &str, holds: bool) -> bool {
        self.claims += 1;
        if holds {
            println!("  ✔ {claim}");
        } else {
            self.failed += 1;
            println!("  ✘ {claim}");
        }
        holds
    }

    /// Stops the lesson early because a step it depends on failed, and counts that as
    /// a failed claim.
    pub fn abort(mut self, what: &str, error: &dyn std::error::Error) -> i32 {
        self.claim(
            &format!("{what}: {}", vessel::cli::error_chain(error)),
            false,
        );
        self.finish()
    }

    /// Prints the summary and returns the exit code: 0 if every claim held.
    pub fn finish(self) -> i32 {
        println!();
        if self.failed == 0 {
            println!("all {} claims hold", self.claims);
            0
        } else {
            println!("{} of {} claims FAILED", self.failed, self.claims);
            1
        }
    }
}

/// Exits with a message if not root: every lesson makes namespaces and mounts.
pub fn require_root(name: &str) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "{name} creates namespaces and mounts, which needs root: build it, then run the \
             binary with sudo from the repository's top directory: \
             `cargo build && sudo target/debug/{name}`"
        );
        std::process::exit(2);
    }
}
