//! A quick latency comparison (ignored by default; `cargo test --test speed -- --ignored
//! --nocapture`); the criterion bench `benches/optimize.rs` is the reference measurement.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use burnish_model::synth::random_inputs;
use burnish_optimizer::Level;
use burnish_runtime::{Session, SessionOptions};

#[test]
#[ignore]
fn optimized_models_are_faster() {
    for (name, dims) in [
        ("resnet_nchw", vec![("batch", 8)]),
        ("bert", vec![("batch", 2), ("seq", 16)]),
    ] {
        let (model, _, _) = common::fixture(name);
        let (opt, _) = common::optimize(&model, Level::Extended, &[]);
        let dims: HashMap<String, usize> = dims.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let inputs = random_inputs(&model.graph, &dims, 0).unwrap();
        let time = |m| {
            let s = Session::new(m, SessionOptions::threads(None)).unwrap();
            for _ in 0..3 {
                s.run(&inputs).unwrap();
            }
            let mut best = f64::MAX;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..5 {
                    s.run_values(s.prepare_inputs(&inputs).unwrap()).unwrap();
                }
                best = best.min(t.elapsed().as_secs_f64() / 5.0);
            }
            best
        };
        let (b, o) = (time(&model), time(&opt));
        println!(
            "{name}: baseline {:.3} ms, extended {:.3} ms, speedup {:.2}x",
            b * 1e3,
            o * 1e3,
            b / o
        );
    }
}
