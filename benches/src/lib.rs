//! Shared helpers for vessel's criterion benchmarks (start-up, copy-up).
//!
//! The benchmarks arrive with the benchmarks issue; this crate exists so the workspace
//! layout matches `DESIGN.md` from the first commit.
