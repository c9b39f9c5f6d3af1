//! cargo-fuzz target `v2_request`: see `burnish_fuzz::harness::v2_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| burnish_fuzz::harness::v2_request(data));
