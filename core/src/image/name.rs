//! Image names: safe as file names in the store, readable in listings.
//!
//! A name may be a registry reference (`127.0.0.1:5000/tools/busybox:1.36`): its `/`
//! separated parts are stored as one file name with `/` spelled `+` (a character no name
//! may contain), so no name can reach outside the images directory.

use super::error::ImageError;

/// Longest image name accepted.
pub const MAX_NAME: usize = 200; // + ".json.tmp" stays within NAME_MAX (255)

/// Checks `name` is a usable image name: 1–200 letters, digits, `.`, `_`, `-`, `:` or `/`,
/// where every `/`-separated part starts with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), ImageError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_NAME {
        Some("it is longer than 200 characters")
    } else if !name
        .split('/')
        .all(|part| part.starts_with(|c: char| c.is_ascii_alphanumeric()))
    {
        Some("it and every part after a '/' must start with a letter or digit")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'/'))
    {
        Some("it contains a character other than letters, digits, '.', '_', '-', ':' and '/'")
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

/// The file name (without `.json`) an image record is stored under.
pub(crate) fn file_stem(name: &str) -> String {
    name.replace('/', "+")
}

/// The name `tag` is the same image as when it has no tag: `busybox` is `busybox:latest`.
pub(crate) fn with_default_tag(name: &str) -> Option<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    (!last.contains(':') && !name.contains('@')).then(|| format!("{name}:latest"))
}

#[cfg(test)]
mod tests {
    use super::{file_stem, validate_name, with_default_tag};

    #[test]
    fn names_that_could_escape_the_store_are_refused() {
        for good in [
            "base",
            "my-app:1.0",
            "a_b.c",
            "127.0.0.1:5000/tools/busybox:1.36",
        ] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "/a",
            "a+b",
            ".hidden",
            "-x",
            "a b",
            &"a".repeat(201),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_reference_is_one_file_name() {
        assert_eq!(file_stem("localhost:5000/a/b:1"), "localhost:5000+a+b:1");
        assert_eq!(with_default_tag("a/b").as_deref(), Some("a/b:latest"));
        assert_eq!(
            with_default_tag("host:5000/b"),
            Some("host:5000/b:latest".into())
        );
        assert_eq!(with_default_tag("b:1"), None);
    }
}
