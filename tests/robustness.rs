//! No input file makes burnish panic: truncated and bit-flipped copies of every fixture either
//! load and run, or fail with an error.

mod common;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use burnish_model::decode_onnx;
use burnish_model::synth::random_inputs;
use burnish_runtime::{Session, SessionOptions};

fn exercise(bytes: &[u8]) -> Result<(), String> {
    let model = decode_onnx(bytes, "mutant.onnx", None).map_err(|e| e.to_string())?;
    let session =
        Session::new(&model, SessionOptions::threads(Some(1))).map_err(|e| e.to_string())?;
    let inputs = random_inputs(&model.graph, &HashMap::new(), 1).map_err(|e| e.to_string())?;
    session.run(&inputs).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn truncated_and_bit_flipped_models_never_panic() {
    let mut state = 0x1234_5678_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for name in common::fixture_names() {
        let bytes = std::fs::read(common::fixtures().join(format!("{name}.onnx"))).unwrap();
        let mut mutants = Vec::new();
        for frac in [0, 1, 2, 5, 10, 30, 50, 90, 99] {
            mutants.push(bytes[..bytes.len() * frac / 100].to_vec());
        }
        for _ in 0..12 {
            let mut m = bytes.clone();
            // Flip bits in the structural prefix, where they change the graph, not just a weight.
            let limit = m.len().min(4096);
            for _ in 0..3 {
                let i = (next() as usize) % limit;
                m[i] ^= 1 << (next() % 8);
            }
            mutants.push(m);
        }
        for (i, m) in mutants.iter().enumerate() {
            let r = catch_unwind(AssertUnwindSafe(|| exercise(m)));
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    errors += 1;
                    assert!(!e.is_empty());
                }
                Err(_) => panic!("{name} mutant #{i} panicked"),
            }
        }
    }
    assert!(errors > 0, "mutations should break at least some models");
}
