//! The `vessel` binary built beside these tests, with its state in a directory of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `vessel` binary of this build (`target/<profile>/vessel`, next to the test's
/// `deps/` directory). `cargo build -p vessel` makes it; `cargo xtask test` builds it first.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let vessel = profile_dir.join("vessel");
    assert!(
        vessel.is_file(),
        "{vessel:?} is missing: build it first with `cargo build -p vessel`"
    );
    vessel
}

/// `vessel` with its images, layers and records under `root` only.
#[derive(Debug)]
pub struct Vessel {
    root: PathBuf,
}

impl Vessel {
    /// vessel keeping everything under `root`.
    pub fn new(root: &Path) -> Vessel {
        Vessel {
            root: root.to_owned(),
        }
    }

    /// Its state root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A `vessel ARGS` command, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .env("VESSEL_ROOT", &self.root)
            .env("VESSEL_RUN_DIR", self.root.join("run"))
            .args(args);
        command
    }

    /// Runs `vessel ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("start vessel")
    }

    /// Runs `vessel ARGS` and panics with its output unless it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vessel {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Whether the test can run (root); without root it is skipped with the reason printed,
/// unless `VESSEL_REQUIRE_PRIVILEGED` is set, where a skip is a failure.
pub fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(
            std::env::var_os("VESSEL_REQUIRE_PRIVILEGED").is_none(),
            "this test needs root, and VESSEL_REQUIRE_PRIVILEGED is set"
        );
        eprintln!("skipped: needs root (vessel run)");
    }
    root
}
