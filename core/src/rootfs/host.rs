//! A rootfs assembled from the host's own binaries, for hosts without a static busybox.

use std::path::{Path, PathBuf};

use super::{BuildResult, install_binary};

/// The commands the lessons and tests use inside a container.
const COMMANDS: [&str; 36] = [
    "sh", "ls", "cat", "echo", "ps", "hostname", "mkdir", "rm", "id", "env", "sleep", "true",
    "false", "head", "tail", "tr", "grep", "touch", "uname", "readlink", "stat", "kill", "chmod",
    "cp", "mv", "ln", "wc", "cut", "sed", "sort", "seq", "dd", "date", "mount", "umount", "yes",
];

/// Copies each available command, with its shared libraries, to `/bin` in `root`.
pub fn populate(root: &Path) -> BuildResult {
    for command in COMMANDS {
        if let Some(path) = which(command) {
            install_binary(root, &path, &Path::new("/bin").join(command))?;
        }
    }
    Ok(())
}

fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_else(|_| super::DEFAULT_PATH.into());
    path.split(':')
        .map(|dir| Path::new(dir).join(command))
        .find(|candidate| candidate.is_file())
}
