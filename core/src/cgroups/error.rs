//! How a cgroup request fails before anything is made: a leaf file, so that the crate
//! error can wrap it without reaching the code that checks and applies limits.

/// A limit that cannot be applied: which option, the value asked for, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option} {value}: {reason}")]
pub struct ResourceError {
    /// The command-line option the value belongs to (`--memory`).
    pub option: String,
    /// The value as asked for.
    pub value: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

impl ResourceError {
    /// An error for `option value`.
    pub fn new(option: &str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        ResourceError {
            option: option.to_owned(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}
