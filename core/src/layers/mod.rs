//! Image layers: the "union filesystem" half of a container runtime.
//!
//! A layer travels as a tar file in the OCI layer format and is named by the sha256 of
//! that file. Deleting a file from a lower layer is recorded as an empty `.wh.NAME` entry
//! (a *whiteout*), and a directory whose lower contents are hidden carries a
//! `.wh..wh..opq` entry (an *opaque* directory).
//!
//! overlayfs records the same two facts differently: a whiteout is a character device
//! 0/0 and an opaque directory has the xattr `trusted.overlay.opaque=y`. So a layer is
//! unpacked once into a directory in overlay's format ([`unpack`]), which the kernel can
//! stack as a lower dir ([`overlay`]), and a container's writable upper dir is packed
//! back into an OCI tar ([`pack`]) by `vessel commit`. [`flatten`] applies tars in order
//! to a plain directory, the way a registry client would, to check that both directions
//! agree.

pub mod digest;
pub mod error;
pub mod flatten;
mod hostile;
pub mod overlay;
pub mod pack;
mod pax;
mod pinned;
pub mod unpack;
pub mod whiteout;

pub use digest::Digest;
pub use error::LayerError;
pub use flatten::{apply_layer, flatten};
pub(crate) use hostile::remove_any;
pub use overlay::{MAX_LOWER_LAYERS, OverlayArgs, OverlayMount, OverlayRootfs};
pub use pack::{PackSummary, SourceKind, pack_dir};
pub use unpack::{count_entries, unpack_layer};
