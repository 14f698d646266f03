//! skopeo, with a policy of its own (accept anything: the images are the test's own) and
//! TLS verification off only for the loopback registry the test started.

use std::path::Path;
use std::process::{Command, Output};

/// The skopeo binary Debian installs.
pub const BINARY: &str = "/usr/bin/skopeo";

/// skopeo with its policy in a temporary directory.
#[derive(Debug)]
pub struct Skopeo {
    dir: tempfile::TempDir,
}

impl Default for Skopeo {
    fn default() -> Self {
        Skopeo::new()
    }
}

impl Skopeo {
    /// Prepares skopeo's policy file; panics when skopeo is missing.
    pub fn new() -> Skopeo {
        assert!(
            Path::new(BINARY).is_file(),
            "{BINARY} is missing: apt-get install skopeo (cargo xtask test installs it)"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .expect("write skopeo's policy");
        Skopeo { dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .arg("--policy")
            .arg(self.dir.path().join("policy.json"))
            .args(args)
            .env("TMPDIR", self.dir.path())
            // Its auth file, never the host's.
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("auth.json"));
        command
    }

    /// Runs `skopeo ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("start skopeo")
    }

    /// Runs `skopeo ARGS`, panicking with its output unless it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "skopeo {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `skopeo copy SRC DST`, TLS verification off (the registry is on loopback), extra
    /// arguments before the two references.
    pub fn copy(&self, source: &str, destination: &str, extra: &[&str]) -> String {
        let mut args = vec!["copy", "--src-tls-verify=false", "--dest-tls-verify=false"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[source, destination]);
        self.ok(&args)
    }

    /// `skopeo inspect` of `reference` (`docker://…`), as JSON.
    pub fn inspect(&self, reference: &str, raw: bool) -> serde_json::Value {
        let mut args = vec!["inspect", "--tls-verify=false"];
        if raw {
            args.push("--raw");
        }
        args.push(reference);
        serde_json::from_str(&self.ok(&args)).expect("skopeo inspect prints JSON")
    }
}
