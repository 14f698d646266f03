//! Choosing the container's stdin, stdout and stderr.
//!
//! By default the container inherits the caller's three descriptors, which is what
//! `vessel run` wants for a terminal. Tests and demos want the output instead:
//! [`crate::process::output`] runs a container to completion and returns what it wrote.

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::process::plan::step::Step;

/// Descriptors to install as the container's 0, 1 and 2; `None` inherits the caller's.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdio<'fd> {
    /// Becomes fd 0.
    pub stdin: Option<BorrowedFd<'fd>>,
    /// Becomes fd 1.
    pub stdout: Option<BorrowedFd<'fd>>,
    /// Becomes fd 2.
    pub stderr: Option<BorrowedFd<'fd>>,
}

impl Stdio<'_> {
    /// The `dup2` steps that install these descriptors, to run first in the child.
    pub(crate) fn steps(&self) -> Vec<Step> {
        [self.stdin, self.stdout, self.stderr]
            .into_iter()
            .zip(0..)
            .filter_map(|(fd, to)| {
                fd.map(|fd| Step::Dup2 {
                    from: fd.as_raw_fd(),
                    to,
                })
            })
            .collect()
    }
}
