//! The closed-loop engine shared by single-stream, offline and concurrency: `workers` threads
//! each issue their next query as soon as their previous one completes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{LoadGen, Measured, assemble, check_positive, one_line, stream_seed};
use crate::error::{BenchError, TargetError};
use crate::histogram::LatencyRecorder;
use crate::resources::CpuMeter;
use crate::result::RunResult;
use crate::target::Target;
use crate::timing::{ns, precise_timer_slack};
use crate::validity::{RunLimits, ScenarioKind};

/// What to run in closed loop.
pub(crate) struct ClosedLoop<'a> {
    pub kind: ScenarioKind,
    pub workers: usize,
    pub batch: usize,
    pub limits: &'a RunLimits,
    pub seed: u64,
}

struct Shared {
    start: Instant,
    stop: AtomicBool,
    completed: AtomicU64,
    finished: AtomicUsize,
    error: Mutex<Option<TargetError>>,
}

struct WorkerOut {
    rec: LatencyRecorder,
    last: Instant,
    truncated: bool,
}

/// Runs the closed loop and returns its result.
pub(crate) fn run(
    lg: &LoadGen,
    target: &dyn Target,
    spec: &ClosedLoop<'_>,
) -> Result<RunResult, BenchError> {
    run_raw(lg, target, spec).map(|raw| raw.result)
}

/// A closed-loop run with what pooling several runs needs.
pub(crate) struct RawRun {
    pub result: RunResult,
    pub latencies: LatencyRecorder,
    pub truncated: bool,
}

/// Runs the closed loop; also returns the raw latencies (for pooling rounds).
pub(crate) fn run_raw(
    lg: &LoadGen,
    target: &dyn Target,
    spec: &ClosedLoop<'_>,
) -> Result<RawRun, BenchError> {
    check_positive("workers", spec.workers)?;
    check_positive("batch", spec.batch)?;
    target
        .prepare(spec.batch)
        .map_err(|e| BenchError::target(target.name(), e))?;
    for _ in 0..spec.limits.warmup_queries {
        target
            .infer(spec.batch)
            .map_err(|e| BenchError::target(target.name(), e))?;
    }
    let label = format!("{} {}", target.name(), spec.kind.as_str());
    lg.progress().run_started(&label, spec.limits.min_duration);
    let meter = CpuMeter::start();
    let shared = Shared {
        start: Instant::now(),
        stop: AtomicBool::new(false),
        completed: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        error: Mutex::new(None),
    };
    let outs: Vec<WorkerOut> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..spec.workers)
            .map(|w| {
                let shared = &shared;
                let seed = stream_seed(spec.seed, w);
                s.spawn(move || {
                    let out = worker(target, spec, shared, lg.sample_cap, seed);
                    shared.finished.fetch_add(1, Ordering::Release);
                    out
                })
            })
            .collect();
        while shared.finished.load(Ordering::Acquire) < spec.workers {
            std::thread::sleep(Duration::from_millis(50));
            lg.progress().run_progress(
                shared.completed.load(Ordering::Relaxed),
                shared.start.elapsed(),
            );
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    if let Some(e) = shared
        .error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        return Err(BenchError::target(target.name(), e));
    }
    let mut latencies = LatencyRecorder::new(lg.sample_cap, spec.seed);
    let mut last = shared.start;
    let mut truncated = false;
    for o in &outs {
        latencies.merge(&o.rec);
        last = last.max(o.last);
        truncated |= o.truncated;
    }
    let completed = latencies.len();
    let span = last - shared.start;
    let settings = lg.settings(spec.batch, spec.workers, spec.limits, spec.seed);
    let raw = latencies.clone();
    let m = Measured {
        latencies,
        completed,
        counted: completed,
        span,
        judged: span,
        truncated,
        dropped: 0,
        server: None,
        query_log: Vec::new(),
    };
    let items = completed * spec.batch as u64;
    let result = assemble(
        target,
        spec.kind,
        settings,
        spec.limits,
        None,
        m,
        meter.finish(items),
    );
    lg.progress().run_finished(&label, &one_line(&result));
    Ok(RawRun {
        result,
        latencies: raw,
        truncated,
    })
}

fn worker(
    target: &dyn Target,
    spec: &ClosedLoop<'_>,
    shared: &Shared,
    cap: usize,
    seed: u64,
) -> WorkerOut {
    precise_timer_slack();
    let mut rec = LatencyRecorder::new(cap, seed);
    let min_end = shared.start + spec.limits.min_duration;
    let max_end = spec.limits.max_duration.map(|d| shared.start + d);
    let mut last = shared.start;
    let mut truncated = false;
    while !shared.stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        if let Err(e) = target.infer(spec.batch) {
            shared
                .error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
            shared.stop.store(true, Ordering::Relaxed);
            break;
        }
        let t1 = Instant::now();
        rec.record(ns(t1 - t0));
        last = t1;
        let n = shared.completed.fetch_add(1, Ordering::Relaxed) + 1;
        if t1 >= min_end && n >= spec.limits.min_queries {
            shared.stop.store(true, Ordering::Relaxed);
        } else if max_end.is_some_and(|m| t1 >= m) {
            truncated = true;
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
    WorkerOut {
        rec,
        last,
        truncated,
    }
}
