//! Server: open-loop Poisson arrivals at a target rate, served by a pool of sessions.
//!
//! The schedule comes from [`PoissonArrivals`] with the configured seed. Dispatch is
//! distributed: each free session claims the next query in schedule order and waits (sleep, then
//! spin) until its scheduled time; a query whose time has passed is issued at once, having
//! waited in the (virtual) FIFO queue. This is an M/G/c queue with exact issue times and no
//! hand-off between a dispatcher thread and the workers. Latency is measured from the
//! *scheduled* time, so a stalled target inflates the latency of every query that came due
//! meanwhile (no coordinated omission).
//!
//! After the last query's scheduled time plus `drain_timeout`, queries not yet issued are
//! dropped: recorded with their latency so far (a lower bound), and the run is INVALID. This
//! keeps an overloaded run from draining an unbounded backlog.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{LoadGen, Measured, assemble, check_positive, one_line, stream_seed};
use crate::arrivals::PoissonArrivals;
use crate::error::{BenchError, TargetError};
use crate::histogram::LatencyRecorder;
use crate::resources::CpuMeter;
use crate::result::{QueryRecord, RunResult, ServerStats};
use crate::stats::LatencyStats;
use crate::target::Target;
use crate::timing::{SPIN_MARGIN, ns, precise_timer_slack, us, wait_until_with_margin};
use crate::validity::{Profile, RunLimits, ScenarioKind, Slo};

/// Settings of a server run.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Scheduled arrival rate, queries per second.
    pub qps: f64,
    /// Concurrent sessions serving queries.
    pub sessions: usize,
    /// Items per query.
    pub batch: usize,
    /// Limits: as in LoadGen, the schedule holds queries until both `min_queries` have been
    /// scheduled and one falls at or after `min_duration`.
    pub limits: RunLimits,
    /// Seed of the arrival schedule.
    pub seed: u64,
    /// Latency objective checked for validity and early stopping.
    pub slo: Option<Slo>,
    /// Grace period after the last scheduled time before unissued queries are dropped.
    pub drain_timeout: Duration,
    /// Keep a per-query log of the first this-many queries (0: none).
    pub query_log_cap: usize,
    /// How long before a query's scheduled time its session stops sleeping and spins (see
    /// [`crate::timing`]): more spin is more precise on an idle machine and costs CPU.
    pub spin_margin: Duration,
}

impl ServerConfig {
    /// Server at `qps` with one session, batch 1, seed 1, no SLO, 2 s drain timeout.
    pub fn new(qps: f64, limits: RunLimits) -> Self {
        Self {
            qps,
            sessions: 1,
            batch: 1,
            limits,
            seed: 1,
            slo: None,
            drain_timeout: Duration::from_secs(2),
            query_log_cap: 0,
            spin_margin: SPIN_MARGIN,
        }
    }

    /// Server at `qps` with a profile's limits.
    pub fn profile(profile: Profile, qps: f64) -> Self {
        Self::new(qps, profile.limits(ScenarioKind::Server))
    }

    /// Sets the number of sessions.
    pub fn with_sessions(mut self, sessions: usize) -> Self {
        self.sessions = sessions;
        self
    }

    /// Sets the SLO.
    pub fn with_slo(mut self, slo: Slo) -> Self {
        self.slo = Some(slo);
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

struct Schedule {
    arrivals: PoissonArrivals,
    next: u64,
}

struct Shared<'a> {
    cfg: &'a ServerConfig,
    start: Instant,
    total: u64,
    drop_after: Instant,
    schedule: Mutex<Schedule>,
    abort: AtomicBool,
    completed: AtomicU64,
    finished: AtomicUsize,
    error: Mutex<Option<TargetError>>,
}

struct SessionOut {
    latency: LatencyRecorder,
    lateness: LatencyRecorder,
    wait: LatencyRecorder,
    last: Instant,
    dropped: u64,
    log: Vec<QueryRecord>,
}

impl LoadGen {
    /// Runs the server scenario at `cfg.qps`.
    pub fn server(&self, target: &dyn Target, cfg: &ServerConfig) -> Result<RunResult, BenchError> {
        check_positive("sessions", cfg.sessions)?;
        check_positive("batch", cfg.batch)?;
        if !(cfg.qps.is_finite() && cfg.qps > 0.0) {
            return Err(BenchError::config(
                "qps",
                cfg.qps,
                "must be positive and finite",
            ));
        }
        target
            .prepare(cfg.batch)
            .map_err(|e| BenchError::target(target.name(), e))?;
        for _ in 0..cfg.limits.warmup_queries {
            target
                .infer(cfg.batch)
                .map_err(|e| BenchError::target(target.name(), e))?;
        }
        // First pass over the (deterministic) schedule, as LoadGen does: queries until both the
        // minimum count is reached and one is scheduled at or after the minimum duration; stop
        // early (truncated) at max_duration.
        let min_s = cfg.limits.min_duration.as_secs_f64();
        let max_s = cfg
            .limits
            .max_duration
            .map_or(f64::INFINITY, |d| d.as_secs_f64());
        let (mut total, mut last_s, mut truncated) = (0u64, 0.0f64, false);
        for t in PoissonArrivals::new(cfg.qps, cfg.seed) {
            if total >= cfg.limits.min_queries.max(1) && last_s >= min_s {
                break;
            }
            if t > max_s {
                truncated = true;
                break;
            }
            total += 1;
            last_s = t;
        }
        let label = format!("{} server {:.1} qps", target.name(), cfg.qps);
        self.progress()
            .run_started(&label, Duration::from_secs_f64(last_s));
        let meter = CpuMeter::start();
        let start = Instant::now();
        let shared = Shared {
            cfg,
            start,
            total,
            drop_after: start + Duration::from_secs_f64(last_s) + cfg.drain_timeout,
            schedule: Mutex::new(Schedule {
                arrivals: PoissonArrivals::new(cfg.qps, cfg.seed),
                next: 0,
            }),
            abort: AtomicBool::new(false),
            completed: AtomicU64::new(0),
            finished: AtomicUsize::new(0),
            error: Mutex::new(None),
        };
        let outs: Vec<SessionOut> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..cfg.sessions)
                .map(|w| {
                    let shared = &shared;
                    let seed = stream_seed(cfg.seed, w);
                    s.spawn(move || {
                        let out = session(target, shared, self.sample_cap, seed);
                        shared.finished.fetch_add(1, Ordering::Release);
                        out
                    })
                })
                .collect();
            while shared.finished.load(Ordering::Acquire) < cfg.sessions {
                std::thread::sleep(Duration::from_millis(50));
                self.progress()
                    .run_progress(shared.completed.load(Ordering::Relaxed), start.elapsed());
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
        let result = self.finish_server(target, cfg, &shared, outs, truncated, last_s, &meter);
        self.progress().run_finished(&label, &one_line(&result));
        Ok(result)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_server(
        &self,
        target: &dyn Target,
        cfg: &ServerConfig,
        shared: &Shared<'_>,
        outs: Vec<SessionOut>,
        truncated: bool,
        last_s: f64,
        meter: &CpuMeter,
    ) -> RunResult {
        let mut latency = LatencyRecorder::new(self.sample_cap, cfg.seed);
        let mut lateness = LatencyRecorder::new(0, 0);
        let mut wait = LatencyRecorder::new(0, 0);
        let (mut last, mut dropped, mut log) = (shared.start, 0, Vec::new());
        for o in outs {
            latency.merge(&o.latency);
            lateness.merge(&o.lateness);
            wait.merge(&o.wait);
            last = last.max(o.last);
            dropped += o.dropped;
            log.extend(o.log);
        }
        log.sort_by_key(|r: &QueryRecord| r.index);
        let completed = latency.len() - dropped;
        let span = (last - shared.start).as_secs_f64();
        let server = ServerStats {
            scheduled_queries: shared.total,
            scheduled_qps: if last_s > 0.0 {
                (shared.total.saturating_sub(1)) as f64 / last_s
            } else {
                0.0
            },
            completed_qps: if span > 0.0 {
                completed as f64 / span
            } else {
                0.0
            },
            dropped_queries: dropped,
            lateness: LatencyStats::from_recorder(&lateness),
            wait: LatencyStats::from_recorder(&wait),
        };
        let mut settings = self.settings(cfg.batch, cfg.sessions, &cfg.limits, cfg.seed);
        settings.target_qps = Some(cfg.qps);
        settings.slo = cfg.slo;
        let counted = latency.len();
        let m = Measured {
            latencies: latency,
            completed,
            counted,
            span: last - shared.start,
            judged: Duration::from_secs_f64(last_s),
            truncated,
            dropped,
            server: Some(server),
            query_log: log,
        };
        let resources = meter.finish(completed * cfg.batch as u64);
        let mut r = assemble(
            target,
            ScenarioKind::Server,
            settings,
            &cfg.limits,
            cfg.slo,
            m,
            resources,
        );
        r.label = format!("{} server {:.1} qps", target.name(), cfg.qps);
        r
    }
}

fn session(target: &dyn Target, sh: &Shared<'_>, cap: usize, seed: u64) -> SessionOut {
    precise_timer_slack();
    let cfg = sh.cfg;
    let mut out = SessionOut {
        latency: LatencyRecorder::new(cap, seed),
        lateness: LatencyRecorder::new(0, 0),
        wait: LatencyRecorder::new(0, 0),
        last: sh.start,
        dropped: 0,
        log: Vec::new(),
    };
    while !sh.abort.load(Ordering::Relaxed) {
        let (index, offset) = {
            let mut s = sh.schedule.lock().unwrap_or_else(|e| e.into_inner());
            if s.next >= sh.total {
                break;
            }
            s.next += 1;
            (s.next - 1, s.arrivals.next().unwrap_or(0.0))
        };
        let scheduled = sh.start + Duration::from_secs_f64(offset);
        let claimed = Instant::now();
        let logged = (index as usize) < cfg.query_log_cap;
        if claimed > sh.drop_after {
            out.dropped += 1;
            out.latency
                .record(ns(claimed.saturating_duration_since(scheduled)));
            if logged {
                out.log.push(QueryRecord {
                    index,
                    scheduled_us: offset * 1e6,
                    started_us: None,
                    completed_us: None,
                });
            }
            continue;
        }
        let issued = if scheduled > claimed {
            wait_until_with_margin(scheduled, cfg.spin_margin);
            let t = Instant::now();
            out.lateness.record(ns(t - scheduled));
            t
        } else {
            claimed
        };
        if let Err(e) = target.infer(cfg.batch) {
            sh.error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
            sh.abort.store(true, Ordering::Relaxed);
            break;
        }
        let done = Instant::now();
        out.latency.record(ns(done - scheduled));
        out.wait.record(ns(issued - scheduled));
        out.last = out.last.max(done);
        sh.completed.fetch_add(1, Ordering::Relaxed);
        if logged {
            out.log.push(QueryRecord {
                index,
                scheduled_us: offset * 1e6,
                started_us: Some(us(issued - sh.start)),
                completed_us: Some(us(done - sh.start)),
            });
        }
    }
    out
}
