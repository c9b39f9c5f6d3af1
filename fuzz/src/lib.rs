//! burnish's fuzz harness: see `harness.rs` and `fuzz/README.md`.

pub mod harness;
