//! `--tmpfs PATH[:OPTIONS]`: an empty in-memory filesystem mounted inside the container,
//! with docker's syntax and defaults (`rw,noexec,nosuid,nodev`; the options after the
//! colon override them: `/run:rw,exec,size=64m,mode=1777`).
//!
//! Options split in two, as the new mount API wants them: mount flags (`ro`, `noexec`,
//! `noatime`, …) become `MOUNT_ATTR_*` bits of `fsmount`, and tmpfs's own options
//! (`size`, `mode`, `uid`, `gid`, `nr_inodes`, `nr_blocks`, `mpol`) one `fsconfig` each.

use std::path::{Component, Path, PathBuf};

use super::error::MountSpecError;
use crate::rootfs::mount_api::{
    MOUNT_ATTR_ATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY,
};
use crate::rootfs::mount_api::{MOUNT_ATTR_NOATIME, MOUNT_ATTR_STRICTATIME};

/// One `--tmpfs` mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    /// Absolute path inside the container.
    pub path: PathBuf,
    /// tmpfs options (`size`, `mode`, …) with their values, in the order given.
    pub options: Vec<(String, String)>,
    /// `MOUNT_ATTR_*` flags of the mount.
    pub attrs: u64,
}

/// docker's default: `noexec,nosuid,nodev` (and `rw`).
pub const DEFAULT_ATTRS: u64 = MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

/// The tmpfs options docker accepts with a value.
const VALUE_OPTIONS: [&str; 7] = [
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

impl TmpfsMount {
    /// A tmpfs at `path` with docker's default options.
    pub fn new(path: impl Into<PathBuf>) -> TmpfsMount {
        TmpfsMount {
            path: path.into(),
            options: Vec::new(),
            attrs: DEFAULT_ATTRS,
        }
    }

    /// Parses docker's `PATH[:OPTIONS]`.
    pub fn parse(spec: &str) -> Result<TmpfsMount, MountSpecError> {
        let bad = |reason: String| MountSpecError::Tmpfs {
            spec: spec.to_owned(),
            reason,
        };
        let (path, options) = spec.split_once(':').unwrap_or((spec, ""));
        let mut mount = TmpfsMount::new(path);
        mount.check_path().map_err(bad)?;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            mount.apply(option).map_err(bad)?;
        }
        Ok(mount)
    }

    /// Checks the path: absolute, not `/`, without `..`.
    pub fn check_path(&self) -> std::result::Result<(), String> {
        let shown = self.path.display();
        if !self.path.is_absolute() {
            return Err(format!("{shown:?} is not absolute (e.g. /run)"));
        }
        if self.path.components().any(|c| c == Component::ParentDir) {
            return Err(format!(
                "{shown:?} contains \"..\" (name the directory directly)"
            ));
        }
        if self.path == Path::new("/") {
            return Err("a tmpfs cannot replace / (use --read-only and mount it on a directory such as /run)".to_owned());
        }
        Ok(())
    }

    /// Applies one option; later options win, as in docker.
    fn apply(&mut self, option: &str) -> std::result::Result<(), String> {
        let (set, clear) = match option {
            "defaults" | "private" | "rprivate" => return Ok(()),
            "rw" => (0, MOUNT_ATTR_RDONLY),
            "ro" => (MOUNT_ATTR_RDONLY, 0),
            "exec" => (0, MOUNT_ATTR_NOEXEC),
            "noexec" => (MOUNT_ATTR_NOEXEC, 0),
            "suid" => (0, MOUNT_ATTR_NOSUID),
            "nosuid" => (MOUNT_ATTR_NOSUID, 0),
            "dev" => (0, MOUNT_ATTR_NODEV),
            "nodev" => (MOUNT_ATTR_NODEV, 0),
            "diratime" => (0, MOUNT_ATTR_NODIRATIME),
            "nodiratime" => (MOUNT_ATTR_NODIRATIME, 0),
            "relatime" | "atime" | "nostrictatime" | "norelatime" => (0, MOUNT_ATTR_ATIME),
            "noatime" => (MOUNT_ATTR_NOATIME, MOUNT_ATTR_ATIME),
            "strictatime" => (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_ATIME),
            _ => return self.apply_value(option),
        };
        self.attrs = (self.attrs & !clear) | set;
        Ok(())
    }

    fn apply_value(&mut self, option: &str) -> std::result::Result<(), String> {
        let Some((key, value)) = option.split_once('=') else {
            return Err(format!(
                "unknown option {option:?} (use rw, ro, exec, noexec, suid, nosuid, dev, nodev, noatime, or {}=VALUE)",
                VALUE_OPTIONS.join("=, ")
            ));
        };
        if !VALUE_OPTIONS.contains(&key) {
            return Err(format!(
                "unknown option {key:?} (tmpfs takes {})",
                VALUE_OPTIONS.join(", ")
            ));
        }
        check_value(key, value)?;
        self.options.retain(|(k, _)| k != key);
        self.options.push((key.to_owned(), value.to_owned()));
        Ok(())
    }
}

/// Refuses what the kernel would refuse, with a reason, before anything starts.
fn check_value(key: &str, value: &str) -> std::result::Result<(), String> {
    let ok = match key {
        "size" | "nr_blocks" | "nr_inodes" => {
            let digits = value.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
            !digits.is_empty()
                && digits.len() + 1 >= value.len()
                && digits.bytes().all(|b| b.is_ascii_digit())
        }
        "mode" => u32::from_str_radix(value, 8).is_ok_and(|m| m <= 0o7777),
        "uid" | "gid" => value.parse::<u32>().is_ok(),
        _ => !value.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        let hint = match key {
            "mode" => "an octal mode such as 1777",
            "uid" | "gid" => "a number",
            _ => "a number with an optional k, m, g or % suffix, e.g. 64m",
        };
        Err(format!("{key}={value:?} is not valid (use {hint})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_defaults_and_overrides() {
        let plain = TmpfsMount::parse("/run").unwrap();
        assert_eq!(plain.attrs, DEFAULT_ATTRS);
        assert!(plain.options.is_empty());
        let custom = TmpfsMount::parse("/run:rw,size=64m,mode=1777,exec,size=32m").unwrap();
        assert_eq!(custom.attrs, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        assert_eq!(
            custom.options,
            [
                ("mode".to_owned(), "1777".to_owned()),
                ("size".to_owned(), "32m".to_owned())
            ]
        );
        assert_ne!(
            TmpfsMount::parse("/x:ro").unwrap().attrs & MOUNT_ATTR_RDONLY,
            0
        );
    }

    #[test]
    fn bad_specs_say_why() {
        let message = |spec: &str| TmpfsMount::parse(spec).unwrap_err().to_string();
        assert!(message("run").contains("not absolute"));
        assert!(message("/").contains("cannot replace /"));
        assert!(message("/a/../b").contains(".."));
        assert!(message("/run:bogus").contains("unknown option \"bogus\""));
        assert!(message("/run:colour=red").contains("unknown option \"colour\""));
        assert!(message("/run:size=lots").contains("size=\"lots\" is not valid"));
        assert!(message("/run:mode=999").contains("octal"));
    }
}
