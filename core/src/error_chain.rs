//! How an error reads to the user: the bottom of the house, importing nothing of it, so
//! that every folder can print a chain without reaching the crate error.

/// `error: cause: cause's cause`, as the user should read it: each message names only
/// its own step, so the whole chain says what was asked and what failed underneath.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
