//! Offline throughput of a fixed-service-time target matches k / service time.

mod common;

use std::time::Duration;

use burnish_bench::{FixedServiceTarget, LoadGen, OfflineConfig, RunLimits, ScenarioKind};
use common::{retry, timing_lock, within};

const SERVICE: Duration = Duration::from_millis(2);

#[test]
fn offline_throughput_is_workers_over_service_time() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(SERVICE);
    let lg = LoadGen::new();
    for workers in [1usize, 4] {
        retry(3, |_| {
            let cfg = OfflineConfig::new(
                workers,
                vec![1],
                RunLimits::new(Duration::from_millis(800), 50).with_warmup(2),
            );
            let runs = lg.offline(&target, &cfg).map_err(|e| e.to_string())?;
            let r = &runs[0];
            assert_eq!(r.scenario, ScenarioKind::Offline);
            assert_eq!(r.settings.workers, workers);
            let expected = workers as f64 / SERVICE.as_secs_f64();
            within(
                &format!("items/s with {workers} workers"),
                r.throughput.items_per_s,
                expected,
                0.05,
            )
        });
    }
}

#[test]
fn offline_batch_sweep_scales_items_with_batch() {
    let _guard = timing_lock();
    // 1 ms per query plus 0.25 ms per item: batch b takes 1 + 0.25 b ms.
    let target =
        FixedServiceTarget::new(Duration::from_millis(1)).with_per_item(Duration::from_micros(250));
    let lg = LoadGen::new();
    retry(3, |_| {
        let cfg = OfflineConfig::new(
            2,
            vec![1, 8],
            RunLimits::new(Duration::from_millis(500), 20),
        );
        let runs = lg.offline(&target, &cfg).map_err(|e| e.to_string())?;
        assert_eq!(runs.len(), 2);
        for (r, batch) in runs.iter().zip([1usize, 8]) {
            assert_eq!(r.settings.batch, batch);
            assert_eq!(r.items, r.queries * batch as u64);
            let service_s = target.service_time(batch).as_secs_f64();
            within(
                &format!("items/s at batch {batch}"),
                r.throughput.items_per_s,
                2.0 * batch as f64 / service_s,
                0.05,
            )?;
        }
        Ok(())
    });
}
