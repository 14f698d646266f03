//! Real container clients driving an OCI runtime: podman (and later containerd and
//! dockerd), each with all its state in a temporary directory, never the host's, and its
//! cgroups under this process's own cgroup. The tests in `clients/tests/` run the same
//! scenarios with vessel and with runc as the runtime, so a scenario that fails only for
//! vessel is vessel's bug.
//!
//! One harness file per client; [`runtime`] says which runtime binary to hand them,
//! [`image`] makes the small local image every scenario runs (no registry is reachable),
//! [`cgroup`] computes where the clients may put cgroups. [`registry`] starts Debian's
//! docker-registry on loopback and [`skopeo`] copies and inspects images, for the image
//! tests (`images_*.rs`), which drive the [`vessel`] CLI with a state root of their own.

pub mod cgroup;
pub mod containerd;
pub mod daemon;
pub mod docker;
pub mod docker_cli;
pub mod each_runtime;
pub mod image;
pub mod podman;
pub mod process_tree;
pub mod registry;
pub mod runtime;
pub mod scenarios;
mod skip;
pub mod skopeo;
pub mod vessel;

pub use skip::{Skip, require_root, require_tool};
