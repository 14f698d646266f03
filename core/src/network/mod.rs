//! Networking: docker's four modes.
//!
//! - **bridge** (the default): a Linux bridge per network acting as a software switch,
//!   one veth pair per container (its `eth0` inside, `vsID` on the bridge), an address
//!   from [`ipam`], a default route via the bridge, NAT and `-p` in [`nft`];
//! - **host**: the host's network namespace; **none**: a namespace with only `lo`;
//! - **container:NAME**: another container's network namespace, joined.
//!
//! Links, addresses and routes go over rtnetlink ([`netlink`]); the parent does all
//! of it while the child waits on its go pipe (the child never allocates). State is
//! kept per network namespace under a lock ([`store`]).

pub mod address;
pub mod attach;
pub mod error;
pub mod files;
pub mod ipam;
pub mod link;
pub mod manage;
mod mode;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod ports;
pub mod store;

pub use attach::{Attachment, Lease, Request, release};
pub use error::NetworkError;
pub use mode::NetworkMode;
pub use ports::PortMapping;
pub use store::Network;
