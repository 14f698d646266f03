//! # vessel — a container runtime you can read
//!
//! A container is an ordinary process that the kernel shows a different world:
//! namespaces change what it sees, cgroups limit what it uses, and a root filesystem
//! entered with `pivot_root` gives it its own files. This crate does exactly that and
//! nothing more, in small modules named after the kernel concern they handle.
//!
//! The heart is the process model ([`process`], see `DESIGN.md`):
//!
//! 1. [`plan`](process::plan): the parent turns a [`ContainerSpec`] into a fixed list of steps, with every
//!    C string, path and flag prepared in advance;
//! 2. [`clone`](process::clone): one `clone3` creates the child in its new namespaces;
//! 3. [`child`](process::child): the child runs the steps without allocating, locking or panicking, and
//!    reports a failing step as `(step, errno)` over a close-on-exec pipe;
//! 4. [`container`](process::container): the parent turns that report into a typed [`Error`] and hands the
//!    caller a [`Running`] container to wait on.
//!
//! ```no_run
//! use vessel::{Container, ContainerSpec};
//!
//! let rootfs = vessel::rootfs::default_rootfs()?;
//! let spec = ContainerSpec::new(rootfs, ["/bin/sh", "-c", "echo $$; hostname"])
//!     .hostname("box");
//! let status = Container::spawn(&spec)?.wait()?;
//! assert_eq!(status.code(), 0);
//! # Ok::<(), vessel::Error>(())
//! ```

pub mod cgroups;
pub mod cli;
pub mod error;
pub mod error_chain;
pub mod image;
pub mod init;
pub mod layers;
pub mod lifecycle;
pub mod namespaces;
pub mod network;
pub mod oci;
pub mod process;
pub mod rootfs;
pub mod security;
pub mod state;
pub mod sys;
#[doc(hidden)]
pub mod test_support;
pub mod tty;

pub use error::{Error, Result};
pub use namespaces::{Namespace, Namespaces};
pub use process::container::{Container, Running};
pub use process::exit::ExitStatus;
pub use process::output::{Output, output};
pub use process::spec::{ContainerSpec, RootfsMode};
pub use process::stdio::Stdio;
pub use process::trace::{Stage, StageSide, StartTrace};
