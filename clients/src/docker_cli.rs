//! What podman and docker share: the docker command line. podman was made to accept
//! docker's verbs and flags, so one scenario ([`crate::scenarios`]) can drive either and
//! show that a runtime behaves the same under both clients.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A client with docker's command line, its own state, and one runtime under test.
pub trait DockerCli {
    /// The client's name in messages: "podman", "docker".
    fn name(&self) -> &'static str;
    /// The client's program, for running it under `timeout` on a terminal of our own.
    fn program(&self) -> &'static str;
    /// The small local image every scenario runs.
    fn image(&self) -> &'static str;
    /// The runtime binary the client hands containers to.
    fn runtime(&self) -> &Path;
    /// The cgroup parent of every container the client starts (relative to each
    /// hierarchy's root).
    fn cgroup_parent(&self) -> &Path;
    /// The client with `args` and its own state, ready to run.
    fn command(&self, args: &[&str]) -> Command;
    /// `rm` arguments that remove a running container without a stop grace period
    /// (podman waits its default 10 s for `--force` unless told `--time 0`).
    fn remove_now(&self) -> &'static [&'static str];

    /// Runs the client with `args` to the end, stdin closed, output captured.
    fn output(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.program()))
    }

    /// Runs the client with `args`; panics with its stderr unless it exits 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{} {} (runtime {}) exited {}: {}",
            self.name(),
            args.join(" "),
            self.runtime().display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Removes the container `id` at once, running or not.
    fn remove(&self, id: &str) {
        let mut args = vec!["rm"];
        args.extend_from_slice(self.remove_now());
        args.push(id);
        self.ok(&args);
    }
}
