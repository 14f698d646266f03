//! Registries: `vessel pull` and `vessel push` over the OCI distribution API.
//!
//! The protocol is `oci-client`'s (a maintained client of the distribution spec: token
//! auth, chunked uploads, range requests); what vessel adds is where blobs land and that
//! a pulled image goes through the same checks as a loaded archive.

mod client;
mod error;
mod progress;
mod pull;
mod push;

pub use client::{is_loopback, parse_reference};
pub use error::RegistryError;
pub use pull::{Pulled, downloads_dir, local_name, pull};
pub use push::{Pushed, push};
