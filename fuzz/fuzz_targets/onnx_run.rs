//! cargo-fuzz target `onnx_run`: see `burnish_fuzz::harness::onnx_run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| burnish_fuzz::harness::onnx_run(data));
