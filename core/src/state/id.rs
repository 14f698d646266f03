//! A container's id: checked once, where it enters, so that everything that names a file
//! or a cgroup after it can trust it.
//!
//! The rule is the one runc and youki apply to the ids an OCI caller chooses (`vessel
//! create ID`): 1 to 1024 letters, digits, `_`, `-`, `.` and `+`, and not only dots. So an
//! id can never climb out of the directory it names (`..`, `a/b`) nor hide as `.`; the ids
//! vessel makes itself, 12 random hex digits like docker's short ids, are within it.

use std::fmt;
use std::fs::File;
use std::io::Read;

use serde::{Deserialize, Serialize};

/// The longest id (runc's limit too: ids name directories, whose names the kernel caps at
/// 255 bytes only per component, but a shim writes them into longer paths).
pub const MAX_LEN: usize = 1024;

/// A container's id: one that is safe to use as a file name (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerId(String);

/// An id that breaks the rule, as it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container id {0:?} is not valid (use letters, digits, '_', '-', '.', and not only dots)")]
pub struct InvalidId(pub String);

impl ContainerId {
    /// A fresh random id of 12 hex digits, read from the kernel's random source.
    pub fn random() -> ContainerId {
        let mut bytes = [0u8; 6];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .expect("read /dev/urandom");
        ContainerId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// `text` as an id, if it keeps the rule.
    pub fn parse(text: &str) -> Result<ContainerId, InvalidId> {
        let valid = !text.is_empty()
            && text.len() <= MAX_LEN
            && !text.chars().all(|c| c == '.')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'));
        if valid {
            Ok(ContainerId(text.to_owned()))
        } else {
            Err(InvalidId(text.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContainerId {
    type Error = InvalidId;

    fn try_from(text: String) -> Result<ContainerId, InvalidId> {
        ContainerId::parse(&text)
    }
}

impl From<ContainerId> for String {
    fn from(id: ContainerId) -> String {
        id.0
    }
}

impl std::str::FromStr for ContainerId {
    type Err = InvalidId;

    fn from_str(text: &str) -> Result<ContainerId, InvalidId> {
        ContainerId::parse(text)
    }
}

/// An id is text wherever text is asked for (a hostname, a cgroup's name, a message).
impl std::ops::Deref for ContainerId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ContainerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ContainerId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for ContainerId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for ContainerId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Printed as the text itself, padded as asked (`{:<12}` in a table).
impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_cannot_name_anything_outside_its_directory() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for bad in [
            "", ".", "..", "...", "a/b", "../x", "a b", "a\0b", "é", &too_long,
        ] {
            assert_eq!(ContainerId::parse(bad), Err(InvalidId(bad.to_owned())));
        }
        for good in [
            "ab-1.2_c",
            "a+b",
            ".hidden-but-not-only-dots",
            &"a".repeat(MAX_LEN),
        ] {
            assert_eq!(ContainerId::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn random_ids_are_12_hex_digits_and_keep_the_rule() {
        let id = ContainerId::random();
        assert_eq!(id.as_str().len(), 12);
        assert!(id.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, ContainerId::random());
    }

    #[test]
    fn an_id_prints_as_its_text_padded_for_a_table() {
        let id = ContainerId::parse("abc").unwrap();
        assert_eq!(format!("[{id:<5}]"), "[abc  ]");
    }

    #[test]
    fn a_record_with_a_bad_id_does_not_parse() {
        let id: ContainerId = serde_json::from_str("\"0123456789ab\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0123456789ab\"");
        assert!(serde_json::from_str::<ContainerId>("\"../etc\"").is_err());
    }
}
