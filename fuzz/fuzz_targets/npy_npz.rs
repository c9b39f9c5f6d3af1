//! cargo-fuzz target `npy_npz`: see `burnish_fuzz::harness::npy_npz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| burnish_fuzz::harness::npy_npz(data));
