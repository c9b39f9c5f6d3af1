//! The optimizer scales linearly (or n log n) with the node count: a chain 8 times longer
//! takes well under 64 times longer (the quadratic growth this guards against). Ignored by
//! default (it times runs): `cargo test -p burnish-optimizer --test scaling -- --ignored
//! --nocapture`; `benches/chain.rs` is the measurement.

#[path = "../benches/graphs/mod.rs"]
mod graphs;

use std::time::Instant;

use burnish_optimizer::{OptimizeOptions, PassManager};
use graphs::chain::chain;

fn seconds(nodes: usize) -> f64 {
    let mut model = chain(nodes);
    let manager = PassManager::new(OptimizeOptions::default()).unwrap();
    let start = Instant::now();
    let record = manager.run(&mut model).unwrap();
    let t = start.elapsed().as_secs_f64();
    println!(
        "{nodes:>7} nodes -> {:>6}: {t:.3} s ({} iterations)",
        record.nodes_after, record.iterations
    );
    t
}

#[test]
#[ignore]
fn optimize_time_grows_linearly_with_the_chain() {
    seconds(2_000);
    let small = seconds(10_000);
    let large = seconds(80_000);
    assert!(
        large / small < 24.0,
        "10k nodes: {small:.3} s, 80k nodes: {large:.3} s ({:.1}x for 8x the nodes)",
        large / small
    );
}
