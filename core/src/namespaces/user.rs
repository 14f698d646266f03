//! User namespaces: who the container's users are on the host.
//!
//! A new user namespace starts with no ids mapped: its processes appear as the overflow
//! id (65534, "nobody") and cannot create files. The *parent* writes
//! `/proc/CHILD/uid_map` and `gid_map` while the child waits on the go pipe; each line is
//! `inside outside count`. After that, uid 0 inside is some unprivileged uid outside, and
//! the capabilities the child holds apply only to resources its namespaces own.
//!
//! Two mappings are built in:
//! * **remapped root** (`--userns` as root): container ids `0..65536` are host ids
//!   `100000..165536`, so container root is an ordinary user on the host;
//! * **rootless** (any caller that is not root): container root is the caller itself, one
//!   id only. An unprivileged writer may only map its own id, and must first write `deny`
//!   to `/proc/CHILD/setgroups` before writing `gid_map` (user_namespaces(7)).

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;

use super::error::{IdMapError, IdMapFile};

/// First host id of the range `--userns` maps container ids onto, as docker's
/// `dockremap` default subordinate range does.
pub const REMAP_FIRST_HOST_ID: u32 = 100_000;
/// How many ids `--userns` maps: 0..65535 inside, enough for every ordinary account.
pub const REMAP_COUNT: u32 = 65_536;

/// One line of a `uid_map` or `gid_map`: `count` ids from `inside` map to `outside`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// First id as the container sees it.
    pub inside: u32,
    /// First id as the host sees it.
    pub outside: u32,
    /// How many consecutive ids.
    pub count: u32,
}

impl IdRange {
    /// The host id of container id `inside`, if this range covers it.
    pub fn to_host(self, inside: u32) -> Option<u32> {
        let offset = inside.checked_sub(self.inside)?;
        (offset < self.count).then(|| self.outside + offset)
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.inside, self.outside, self.count)
    }
}

/// The uid and gid maps of one container's user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMapping {
    /// Lines of `uid_map`.
    pub uids: Vec<IdRange>,
    /// Lines of `gid_map`.
    pub gids: Vec<IdRange>,
}

impl IdMapping {
    /// Container ids `0..count` onto host ids `first..first+count`, for users and groups.
    pub fn shifted(first: u32, count: u32) -> IdMapping {
        let range = IdRange {
            inside: 0,
            outside: first,
            count,
        };
        IdMapping {
            uids: vec![range],
            gids: vec![range],
        }
    }

    /// Container root is the calling user and group; nothing else is mapped. The only
    /// mapping an unprivileged caller is allowed to write.
    pub fn rootless(uid: u32, gid: u32) -> IdMapping {
        let one = |outside| IdRange {
            inside: 0,
            outside,
            count: 1,
        };
        IdMapping {
            uids: vec![one(uid)],
            gids: vec![one(gid)],
        }
    }

    /// What a user namespace gets when the caller gave no mapping: the remapped range
    /// when vessel runs as root, else the caller's own ids (rootless).
    pub fn for_caller() -> IdMapping {
        let (uid, gid) = caller_ids();
        if uid == 0 {
            IdMapping::shifted(REMAP_FIRST_HOST_ID, REMAP_COUNT)
        } else {
            IdMapping::rootless(uid, gid)
        }
    }

    /// The host uid of container root, if root is mapped.
    pub fn host_root_uid(&self) -> Option<u32> {
        self.uids.iter().find_map(|r| r.to_host(0))
    }

    /// The host gid of container root, if root is mapped.
    pub fn host_root_gid(&self) -> Option<u32> {
        self.gids.iter().find_map(|r| r.to_host(0))
    }

    /// Checks the mapping makes sense before anything is created: root must be mapped
    /// (the container's command runs as root inside), and at most 340 lines (the
    /// kernel's limit since 4.15).
    pub fn validate(&self) -> std::result::Result<(), &'static str> {
        if self.host_root_uid().is_none() || self.host_root_gid().is_none() {
            return Err("container root (id 0) is not mapped to any host id");
        }
        if self.uids.len() > 340 || self.gids.len() > 340 {
            return Err("more than 340 ranges (the kernel's limit)");
        }
        if self.uids.iter().chain(&self.gids).any(|r| r.count == 0) {
            return Err("a range has a count of 0");
        }
        Ok(())
    }

    // ANCHOR: write_maps
    /// Writes the maps for process `pid`, which must be waiting in its new user namespace.
    /// Each file takes one `write` holding every line, and can be written only once.
    pub fn write_for(&self, pid: libc::pid_t) -> Result<(), IdMapError> {
        // An unprivileged writer must give up setgroups(2) in the namespace before it
        // may write gid_map; otherwise a process could drop a group that denies it access.
        if caller_ids().0 != 0 {
            write_proc(pid, IdMapFile::SetGroups, "deny")?;
        }
        write_proc(pid, IdMapFile::UidMap, &lines(&self.uids))?;
        write_proc(pid, IdMapFile::GidMap, &lines(&self.gids))
    }
    // ANCHOR_END: write_maps
}

fn lines(ranges: &[IdRange]) -> String {
    ranges.iter().map(|r| format!("{r}\n")).collect()
}

/// The caller's effective uid and gid.
pub fn caller_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid have no preconditions and cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

fn write_proc(pid: libc::pid_t, file: IdMapFile, content: &str) -> Result<(), IdMapError> {
    let path = format!("/proc/{pid}/{}", file.name());
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(content.as_bytes()))
        .map_err(|source| IdMapError {
            file,
            content: content.trim_end().replace('\n', "; "),
            source,
        })
}

/// Parses `--userns`-style map text: `INSIDE:OUTSIDE:COUNT`.
pub fn parse_range(text: &str) -> std::result::Result<IdRange, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [inside, outside, count] = parts.as_slice() else {
        return Err(format!(
            "{text:?}: expected INSIDE:OUTSIDE:COUNT (e.g. 0:100000:65536)"
        ));
    };
    let number = |what: &str, s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("{text:?}: {what} {s:?} is not a number"))
    };
    Ok(IdRange {
        inside: number("INSIDE", inside)?,
        outside: number("OUTSIDE", outside)?,
        count: number("COUNT", count)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_translates_only_the_ids_it_covers() {
        let range = IdRange {
            inside: 0,
            outside: 100_000,
            count: 65_536,
        };
        assert_eq!(range.to_host(0), Some(100_000));
        assert_eq!(range.to_host(65_535), Some(165_535));
        assert_eq!(range.to_host(65_536), None);
        assert_eq!(range.to_string(), "0 100000 65536");
    }

    #[test]
    fn rootless_maps_root_to_the_caller_only() {
        let mapping = IdMapping::rootless(1000, 1001);
        assert_eq!(mapping.host_root_uid(), Some(1000));
        assert_eq!(mapping.host_root_gid(), Some(1001));
        assert_eq!(mapping.uids[0].to_host(1), None);
        assert!(mapping.validate().is_ok());
    }

    #[test]
    fn a_mapping_without_root_is_refused() {
        let mut mapping = IdMapping::shifted(100_000, 10);
        mapping.uids[0].inside = 1;
        assert!(mapping.validate().is_err());
    }

    #[test]
    fn map_text_parses_or_says_what_is_wrong() {
        assert_eq!(
            parse_range("0:100000:65536"),
            Ok(IdRange {
                inside: 0,
                outside: 100_000,
                count: 65_536
            })
        );
        assert!(parse_range("0:x:1").unwrap_err().contains("OUTSIDE \"x\""));
        assert!(
            parse_range("0:1")
                .unwrap_err()
                .contains("INSIDE:OUTSIDE:COUNT")
        );
    }
}
