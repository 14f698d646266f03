//! C strings for the child, made by the parent: a NUL byte inside is the caller's error.

use crate::process::error::{ProcessError, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// Converts a string or path to a C string, naming `what` if it holds a NUL byte.
pub(crate) fn cstring(what: &'static str, value: impl AsRef<std::ffi::OsStr>) -> Result<CString> {
    let bytes = value.as_ref().as_bytes();
    CString::new(bytes).map_err(|_| ProcessError::NulByte {
        what,
        value: String::from_utf8_lossy(bytes).into_owned(),
    })
}
