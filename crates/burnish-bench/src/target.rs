//! The system-under-test contract and synthetic targets for tests and harness benchmarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::TargetError;
use crate::timing::{SPIN_MARGIN, wait_until_with_margin};

/// A system under test: takes a batch, returns when done. Must be callable from several threads
/// at once.
pub trait Target: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &str;
    /// Prepare for the given batch size (e.g. build inputs); called once before timing, not timed.
    fn prepare(&self, batch: usize) -> Result<(), TargetError>;
    /// Run one query of `batch` items; return when complete.
    fn infer(&self, batch: usize) -> Result<(), TargetError>;
}

/// A target that does nothing: measures the harness itself.
#[derive(Debug, Clone, Default)]
pub struct NoopTarget;

impl Target for NoopTarget {
    fn name(&self) -> &str {
        "noop"
    }

    fn prepare(&self, _batch: usize) -> Result<(), TargetError> {
        Ok(())
    }

    fn infer(&self, _batch: usize) -> Result<(), TargetError> {
        Ok(())
    }
}

/// A target whose query takes a fixed service time, `base + per_item * batch`, measured from the
/// call: it sleeps most of it and spin-waits the last [`SPIN_MARGIN`] (configurable), for
/// sub-millisecond precision. Concurrent calls overlap (like a device with unlimited
/// parallelism), so `k` callers get `k` times the throughput of one.
#[derive(Debug, Clone)]
pub struct FixedServiceTarget {
    name: String,
    base: Duration,
    per_item: Duration,
    spin_margin: Duration,
}

impl FixedServiceTarget {
    /// A target taking `service` per query, whatever the batch.
    pub fn new(service: Duration) -> Self {
        Self {
            name: format!("fixed-{}us", service.as_micros()),
            base: service,
            per_item: Duration::ZERO,
            spin_margin: SPIN_MARGIN,
        }
    }

    /// Spin-waits the last `margin` of each query instead of [`SPIN_MARGIN`]. A margin at least
    /// as long as the service time spins throughout: the most precise, for one core per caller.
    pub fn with_spin_margin(mut self, margin: Duration) -> Self {
        self.spin_margin = margin;
        self
    }

    /// Adds `per_item * batch` to each query's service time.
    pub fn with_per_item(mut self, per_item: Duration) -> Self {
        self.per_item = per_item;
        self
    }

    /// Renames the target.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The service time of one query of `batch` items.
    pub fn service_time(&self, batch: usize) -> Duration {
        self.base + self.per_item * u32::try_from(batch).unwrap_or(u32::MAX)
    }
}

impl Target for FixedServiceTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&self, _batch: usize) -> Result<(), TargetError> {
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        wait_until_with_margin(Instant::now() + self.service_time(batch), self.spin_margin);
        Ok(())
    }
}

/// A fixed-service-time target that stalls once: its `stall_at`-th call to `infer` (counting
/// from 1) takes `stall` longer. Models a GC pause, a page fault storm or a noisy neighbour.
#[derive(Debug)]
pub struct StallOnceTarget {
    inner: FixedServiceTarget,
    stall_at: u64,
    stall: Duration,
    calls: AtomicU64,
    stalled_at: Mutex<Option<Instant>>,
}

impl StallOnceTarget {
    /// `service` per query; the `stall_at`-th call (1-based) additionally stalls for `stall`.
    pub fn new(service: Duration, stall_at: u64, stall: Duration) -> Self {
        Self {
            inner: FixedServiceTarget::new(service).named("stall-once"),
            stall_at,
            stall,
            calls: AtomicU64::new(0),
            stalled_at: Mutex::new(None),
        }
    }

    /// When the stall began, once it has happened.
    pub fn stalled_at(&self) -> Option<Instant> {
        *self.stalled_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times `infer` has been called.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Target for StallOnceTarget {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn prepare(&self, batch: usize) -> Result<(), TargetError> {
        self.inner.prepare(batch)
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if call == self.stall_at {
            let now = Instant::now();
            *self.stalled_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
            wait_until_with_margin(now + self.stall, SPIN_MARGIN);
        }
        self.inner.infer(batch)
    }
}

impl<T: Target + ?Sized> Target for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn prepare(&self, batch: usize) -> Result<(), TargetError> {
        (**self).prepare(batch)
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        (**self).infer(batch)
    }
}
