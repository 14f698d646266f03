//! Hostname validation: what `sethostname(2)` and resolvers will accept.

/// The kernel's limit (`__NEW_UTS_LEN`).
pub const MAX_LEN: usize = 64;

/// Checks `name` is a usable hostname: 1–64 characters of letters, digits, `-` and `.`,
/// not starting or ending with `-` or `.`. Returns why not, in words.
pub fn validate(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > MAX_LEN {
        return Err("it is longer than 64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("it contains a character that is not a letter, digit, '-' or '.'");
    }
    if name.starts_with(['-', '.']) || name.ends_with(['-', '.']) {
        return Err("it must start and end with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_ordinary_names_and_rejects_the_rest() {
        assert!(validate("box-1.example").is_ok());
        assert!(validate(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "-lead", "trail.", "ünï", &"a".repeat(65)] {
            assert!(validate(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
