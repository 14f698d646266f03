//! The suite's own session keyring, seen with raw `keyctl` calls (no library): is a key
//! the container planted in *its* session keyring in ours, i.e. the caller's?

use std::ffi::CString;

const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
const KEYCTL_SEARCH: libc::c_long = 10;
const KEYCTL_INVALIDATE: libc::c_long = 21;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;

/// Gives this thread (the one that starts containers) a new session keyring called
/// `name`, as a login shell has one (`pam_keyinit`): a runtime that forgets to give its
/// container a fresh one then hands this one on. Returns its serial.
pub fn join_new_session(name: &str) -> Result<i64, String> {
    let name = CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let serial =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    if serial < 0 {
        return Err(format!(
            "keyctl(JOIN_SESSION_KEYRING): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(serial)
}

/// The serial of the caller's session keyring (the user session keyring if it has none
/// of its own, as the kernel resolves `KEY_SPEC_SESSION_KEYRING`).
pub fn own_session_keyring() -> Result<i64, String> {
    // SAFETY: keyctl(GET_KEYRING_ID) takes numbers and writes no memory.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_KEYRING_ID,
            KEY_SPEC_SESSION_KEYRING,
            0,
        )
    };
    if serial < 0 {
        return Err(format!(
            "keyctl(GET_KEYRING_ID, session): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(serial)
}

/// The serial of a `user` key called `description` in our session keyring, if any.
pub fn find_in_own_session(description: &str) -> Option<i64> {
    let kind = CString::new("user").ok()?;
    let desc = CString::new(description).ok()?;
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_SESSION_KEYRING,
            kind.as_ptr(),
            desc.as_ptr(),
            0,
        )
    };
    (serial >= 0).then_some(serial)
}

/// Removes a key the container managed to plant in our keyring.
pub fn invalidate(serial: i64) {
    // SAFETY: keyctl(INVALIDATE) takes a serial number and writes no memory.
    unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, serial) };
}
