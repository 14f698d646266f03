//! Image names: safe as file names in the store, readable in listings.

use super::error::ImageError;

/// Longest image name accepted.
pub const MAX_NAME: usize = 128;

/// Checks `name` is a usable image name: 1–128 letters, digits, `.`, `_`, `-` or `:`,
/// starting with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), ImageError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_NAME {
        Some("it is longer than 128 characters")
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("it must start with a letter or digit")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
    {
        Some("it contains a character other than letters, digits, '.', '_', '-' and ':'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ImageError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names_that_could_escape_the_store_are_refused() {
        for good in ["base", "my-app:1.0", "a_b.c"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "-x", "a b", &"a".repeat(129)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
