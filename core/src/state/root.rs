//! Where vessel keeps its files: the state root (images, layers, the default rootfs, the
//! OCI state), given once by `vessel --root DIR` or the environment and passed on as a
//! value, so nothing has to read it back out of the process's environment later.

use std::path::{Path, PathBuf};

/// The environment variable `--root` stands in for.
pub const ROOT_ENV: &str = "VESSEL_ROOT";

/// Where vessel keeps its files unless `--root` or `VESSEL_ROOT` says otherwise.
pub const DEFAULT_STATE_ROOT: &str = "/var/lib/vessel";

/// The state root, and whether one was chosen (then the run directory goes under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    dir: PathBuf,
    chosen: bool,
}

impl Root {
    /// `given` (`--root DIR`) if there is one, else [`Root::from_env`].
    pub fn new(given: Option<PathBuf>) -> Root {
        match given {
            Some(dir) => Root { dir, chosen: true },
            None => Root::from_env(),
        }
    }

    /// `$VESSEL_ROOT` if set, else the default root (`/var/lib/vessel`).
    pub fn from_env() -> Root {
        match std::env::var_os(ROOT_ENV) {
            Some(dir) => Root {
                dir: dir.into(),
                chosen: true,
            },
            None => Root {
                dir: DEFAULT_STATE_ROOT.into(),
                chosen: false,
            },
        }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether it was chosen (`--root`, `$VESSEL_ROOT`) rather than the default.
    pub fn chosen(&self) -> bool {
        self.chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_root_is_chosen_whatever_the_environment_says() {
        let root = Root::new(Some("/somewhere".into()));
        assert_eq!(root.dir(), Path::new("/somewhere"));
        assert!(root.chosen());
    }
}
