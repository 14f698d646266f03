//! The conformance suite: isolation invariants checked against a real kernel.
//!
//! The checks themselves arrive with the conformance issue; this crate exists so the
//! workspace layout matches `DESIGN.md` from the first commit.
