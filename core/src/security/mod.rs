//! Security helpers that are not a kernel feature of their own.

pub mod in_root;

pub use in_root::InRoot;
