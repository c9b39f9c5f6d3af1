//! Baseline vs optimized latency (filled in below).
fn main() {}
