//! cargo-fuzz target `qdq_lower`: see `burnish_fuzz::harness::qdq_lower`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| burnish_fuzz::harness::qdq_lower(data));
