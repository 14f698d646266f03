//! One device rule: a kind (`c`, `b` or `a` for all), a major and minor number (or `*`
//! for any), and the ways it may be used (`r` read, `w` write, `m` mknod), written as
//! the v1 controller reads it: `c 1:3 rwm`, `c 136:* rwm`, `a *:* m`.

use std::fmt;

/// Which device nodes a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// Character devices (`c`).
    Char,
    /// Block devices (`b`).
    Block,
    /// Both (`a`).
    All,
}

impl DeviceKind {
    fn letter(self) -> char {
        match self {
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
            DeviceKind::All => 'a',
        }
    }
}

/// A set of the ways a device may be used. The bits are the kernel's own
/// (`BPF_DEVCG_ACC_MKNOD` 1, `_READ` 2, `_WRITE` 4), which the BPF program compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access(u8);

impl Access {
    /// `m`: create a node with `mknod`.
    pub const MKNOD: Access = Access(1);
    /// `r`: open for reading.
    pub const READ: Access = Access(2);
    /// `w`: open for writing.
    pub const WRITE: Access = Access(4);
    /// `rwm`.
    pub const ALL: Access = Access(7);

    /// Parses a non-empty combination of `r`, `w` and `m` (docker's `--device` suffix).
    pub fn parse(text: &str) -> Result<Access, DeviceRuleError> {
        let mut bits = 0;
        for letter in text.chars() {
            bits |= match letter {
                'm' => Access::MKNOD.0,
                'r' => Access::READ.0,
                'w' => Access::WRITE.0,
                _ => return Err(DeviceRuleError::Access(text.to_owned())),
            };
        }
        if bits == 0 {
            return Err(DeviceRuleError::Access(text.to_owned()));
        }
        Ok(Access(bits))
    }

    /// The kernel's bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every way in `other` is in `self`.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, letter) in [
            (Access::READ, 'r'),
            (Access::WRITE, 'w'),
            (Access::MKNOD, 'm'),
        ] {
            if self.contains(bit) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// The largest major and minor numbers Linux has (`MINORBITS` is 20; majors fit in 12).
pub const MAX_MAJOR: u32 = (1 << 12) - 1;
/// See [`MAX_MAJOR`].
pub const MAX_MINOR: u32 = (1 << 20) - 1;

/// One allow rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    /// Character, block or both.
    pub kind: DeviceKind,
    /// The major number; `None` for any.
    pub major: Option<u32>,
    /// The minor number; `None` for any.
    pub minor: Option<u32>,
    /// The ways it may be used.
    pub access: Access,
}

/// A device rule or `--device` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceRuleError {
    /// Access letters other than `r`, `w`, `m`.
    #[error("access {0:?}: use a combination of r (read), w (write) and m (mknod), e.g. rwm")]
    Access(String),
    /// A rule not in `TYPE MAJOR:MINOR ACCESS` form.
    #[error(
        "device rule {0:?}: expected TYPE MAJOR:MINOR ACCESS, e.g. \"c 1:3 rwm\" or \"c 136:* rw\""
    )]
    Syntax(String),
    /// A major or minor number Linux cannot have.
    #[error("device rule {0:?}: a major is at most 4095 and a minor at most 1048575")]
    Range(String),
}

impl DeviceRule {
    /// A rule for exactly one device.
    pub fn device(kind: DeviceKind, major: u32, minor: u32, access: Access) -> DeviceRule {
        DeviceRule {
            kind,
            major: Some(major),
            minor: Some(minor),
            access,
        }
    }

    /// Parses the v1 syntax, `c 1:3 rwm` (`*` for any number; `a` alone means `a *:* rwm`).
    pub fn parse(text: &str) -> Result<DeviceRule, DeviceRuleError> {
        let syntax = || DeviceRuleError::Syntax(text.to_owned());
        let fields: Vec<&str> = text.split_whitespace().collect();
        let kind = match fields.first().copied() {
            Some("c") => DeviceKind::Char,
            Some("b") => DeviceKind::Block,
            Some("a") => DeviceKind::All,
            _ => return Err(syntax()),
        };
        if fields == ["a"] {
            return Ok(DeviceRule {
                kind,
                major: None,
                minor: None,
                access: Access::ALL,
            });
        }
        let [_, numbers, access] = fields.as_slice() else {
            return Err(syntax());
        };
        let (major, minor) = numbers.split_once(':').ok_or_else(syntax)?;
        let number = |n: &str| match n {
            "*" => Ok(None),
            n => n.parse::<u32>().map(Some).map_err(|_| syntax()),
        };
        let rule = DeviceRule {
            kind,
            major: number(major)?,
            minor: number(minor)?,
            access: Access::parse(access)?,
        };
        if !rule.in_range() {
            return Err(DeviceRuleError::Range(text.to_owned()));
        }
        Ok(rule)
    }

    /// Whether the numbers are ones Linux can have (the BPF program compares them as
    /// 32-bit immediates, which must not be sign-extended).
    pub fn in_range(&self) -> bool {
        self.major.is_none_or(|m| m <= MAX_MAJOR) && self.minor.is_none_or(|m| m <= MAX_MINOR)
    }

    /// Whether the rule is about `kind major:minor` (whatever the access).
    pub fn matches(&self, kind: DeviceKind, major: u32, minor: u32) -> bool {
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
    }
}

impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |n: Option<u32>| n.map_or("*".to_owned(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            number(self.major),
            number(self.minor),
            self.access
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_print_in_the_v1_syntax() {
        for text in [
            "c 1:3 rwm",
            "c 136:* rw",
            "b *:* m",
            "a *:* rwm",
            "c 10:229 r",
        ] {
            assert_eq!(DeviceRule::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(DeviceRule::parse("a").unwrap().to_string(), "a *:* rwm");
        assert_eq!(Access::parse("mwr").unwrap().to_string(), "rwm");
    }

    #[test]
    fn bad_rules_say_what_is_expected() {
        assert!(matches!(
            DeviceRule::parse("x 1:3 rwm"),
            Err(DeviceRuleError::Syntax(_))
        ));
        assert!(matches!(
            DeviceRule::parse("c 1 rwm"),
            Err(DeviceRuleError::Syntax(_))
        ));
        assert!(matches!(
            DeviceRule::parse("c 1:3 rwx"),
            Err(DeviceRuleError::Access(_))
        ));
        assert!(matches!(
            DeviceRule::parse("c 5000:3 r"),
            Err(DeviceRuleError::Range(_))
        ));
        assert!(Access::parse("").is_err());
        assert!(
            Access::parse("rwq")
                .unwrap_err()
                .to_string()
                .contains("r (read), w (write) and m (mknod)")
        );
    }
}
