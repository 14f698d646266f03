//! A seccomp profile in docker's JSON format (`docker run --security-opt
//! seccomp=FILE.json`), which is also the shape of the OCI runtime spec's
//! `linux.seccomp` plus docker's conditional `includes`/`excludes`.
//!
//! Parsing keeps the strings as they are; [`super::compile`] turns actions and operators
//! into BPF and refuses the ones it does not know, naming them.

use serde::Deserialize;

use super::SeccompError;

/// A whole profile: what happens to a call no rule names, and the rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// `SCMP_ACT_ERRNO`, `SCMP_ACT_ALLOW`, … for every call no rule matches.
    pub default_action: String,
    /// The errno of a default `SCMP_ACT_ERRNO` (`EPERM` when absent).
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// `SCMP_ARCH_*` names the filter should cover (informative here: vessel compiles
    /// for the native architecture only and refuses every other one, see
    /// [`super::compile`]).
    #[serde(default)]
    pub architectures: Vec<String>,
    /// docker's per-architecture form of `architectures`.
    #[serde(default)]
    pub arch_map: Vec<ArchMap>,
    /// The rules, in order.
    #[serde(default)]
    pub syscalls: Vec<SyscallRule>,
}

/// One `archMap` entry: an architecture and the ones it can also run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    /// `SCMP_ARCH_X86_64`, …
    pub architecture: String,
    /// `SCMP_ARCH_X86`, `SCMP_ARCH_X32`, …
    #[serde(default)]
    pub sub_architectures: Vec<String>,
}

/// One rule: these calls, with these argument conditions, get this action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyscallRule {
    /// The calls the rule is about.
    #[serde(default)]
    pub names: Vec<String>,
    /// The old single-name form (docker still reads it).
    #[serde(default)]
    pub name: Option<String>,
    /// What happens when the rule matches.
    pub action: String,
    /// The errno of an `SCMP_ACT_ERRNO` action (`EPERM` when absent).
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// Conditions on the arguments, all of which must hold.
    #[serde(default)]
    pub args: Vec<ArgCondition>,
    /// The rule applies only if the container has all these capabilities (or runs
    /// on one of these architectures).
    #[serde(default)]
    pub includes: Option<Condition>,
    /// The rule is dropped if the container has any of these capabilities (or runs on
    /// one of these architectures).
    #[serde(default)]
    pub excludes: Option<Condition>,
    /// Free text.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A condition on one argument: `args[index] OP value` (`MASKED_EQ`:
/// `args[index] & value == value_two`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgCondition {
    /// Which argument, 0 to 5.
    pub index: u8,
    /// The value compared with (the mask for `SCMP_CMP_MASKED_EQ`).
    pub value: u64,
    /// The expected masked value for `SCMP_CMP_MASKED_EQ`.
    #[serde(default)]
    pub value_two: u64,
    /// `SCMP_CMP_EQ`, `SCMP_CMP_NE`, `SCMP_CMP_LT`, …
    pub op: String,
}

/// docker's `includes`/`excludes`: capabilities, architectures, a minimum kernel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `CAP_SYS_ADMIN`, …
    #[serde(default)]
    pub caps: Vec<String>,
    /// docker's architecture names: `amd64`, `x32`, `x86`, `arm64`, …
    #[serde(default)]
    pub arches: Vec<String>,
    /// `"4.8"`: the rule needs (includes) or is dropped from (excludes) this kernel on.
    #[serde(default)]
    pub min_kernel: Option<String>,
}

impl SyscallRule {
    /// Every name the rule covers, from `names` and the old `name`.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(String::as_str)
            .chain(self.name.as_deref())
    }
}

impl Profile {
    /// Reads a profile from docker's JSON.
    pub fn from_json(text: &str) -> Result<Profile, SeccompError> {
        serde_json::from_str(text).map_err(|e| SeccompError::Parse(e.to_string()))
    }

    /// Reads a profile file (`--security-opt seccomp=FILE.json`).
    pub fn from_file(path: &std::path::Path) -> Result<Profile, SeccompError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeccompError::Read {
            path: path.to_owned(),
            reason: source.to_string(),
        })?;
        Profile::from_json(&text).map_err(|error| match error {
            SeccompError::Parse(reason) => SeccompError::ParseFile {
                path: path.to_owned(),
                reason,
            },
            other => other,
        })
    }
}
