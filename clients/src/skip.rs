//! When a client test cannot run here: skipped with the reason printed, or a failure
//! when `VESSEL_REQUIRE_PRIVILEGED=1` says every test must really run (as CI does).

use std::path::{Path, PathBuf};

/// Why a test cannot run on this machine.
#[derive(Debug)]
pub struct Skip(pub String);

impl Skip {
    /// Prints the reason and returns normally, or panics when skips are not allowed.
    pub fn report(self, test: &str) {
        if std::env::var_os("VESSEL_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
            panic!(
                "{test}: cannot run: {} (VESSEL_REQUIRE_PRIVILEGED=1)",
                self.0
            );
        }
        eprintln!("skipped {test}: {}", self.0);
    }
}

/// Root is needed: the clients mount, make cgroups and namespaces.
pub fn require_root() -> Result<(), Skip> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        Ok(())
    } else {
        Err(Skip("needs root".into()))
    }
}

/// The absolute path of `tool`, which Debian's `package` installs
/// (`cargo xtask test` installs it; by hand: `apt-get install PACKAGE`).
pub fn require_tool(path: &str, package: &str) -> Result<PathBuf, Skip> {
    let path = Path::new(path);
    if path.is_file() {
        Ok(path.to_owned())
    } else {
        Err(Skip(format!(
            "{} is missing (apt-get install -y --no-install-recommends {package})",
            path.display()
        )))
    }
}
