//! cargo-fuzz target `onnx_import`: see `burnish_fuzz::harness::onnx_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| burnish_fuzz::harness::onnx_import(data));
