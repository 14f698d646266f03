//! The process model (see `DESIGN.md`), in the order a start runs it:
//!
//! 1. [`spec`]: what the caller asks for, a [`ContainerSpec`](spec::ContainerSpec);
//! 2. [`plan`]: the parent turns it into a fixed list of steps, with every C string,
//!    path and flag prepared in advance;
//! 3. [`clone`]: one `clone3` creates the child in its new namespaces, joined to the
//!    parent by the [`pipe`]s;
//! 4. [`child`]: the child runs the steps without allocating, locking or panicking, and
//!    reports a failing step as `(step, errno)`: *all* code that runs between `clone3`
//!    and `execve` lives there;
//! 5. [`container`]: the parent turns that report into a typed error and hands the
//!    caller a running container to wait on ([`exit`], [`stdio`], [`trace`]).
//!
//! [`hooks`] are the OCI hooks the child itself runs (`createContainer`, `startContainer`).
//! [`tenant`] is the same model for a process that joins a running container
//! (`vessel exec`) instead of creating one.

pub mod child;
pub mod clone;
pub mod container;
pub mod error;
pub mod exit;
pub mod hooks;
pub mod output;
pub mod pipe;
pub mod plan;
pub mod spec;
pub mod stdio;
pub mod tenant;
pub mod time_handshake;
pub mod trace;
