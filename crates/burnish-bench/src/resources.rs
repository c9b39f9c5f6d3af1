//! Process resource usage: CPU time (getrusage), peak resident memory (`VmHWM`), load average.
//! Everything degrades to `None` where the platform does not provide it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Resource usage of the process over one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// User + system CPU time of the whole process during the run, seconds.
    pub cpu_seconds: Option<f64>,
    /// `cpu_seconds / wall / cores`, in percent of all logical cores.
    pub cpu_utilization_pct: Option<f64>,
    /// Items completed per CPU-second.
    pub items_per_cpu_second: Option<f64>,
    /// Peak resident set size of the process so far (`VmHWM`), bytes. Process-wide and
    /// monotonic: it includes everything the process did before this run.
    pub peak_rss_bytes: Option<u64>,
    /// 1-minute load average when the run started.
    pub load_avg_1m_at_start: Option<f64>,
    /// Logical cores used as the utilization denominator.
    pub cores: usize,
}

/// A snapshot taken at the start of a run; [`CpuMeter::finish`] turns it into [`ResourceUsage`].
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    wall: Instant,
    cpu: Option<Duration>,
    load: Option<f64>,
}

impl CpuMeter {
    /// Starts measuring now.
    pub fn start() -> Self {
        Self {
            load: load_average_1m(),
            cpu: process_cpu_time(),
            wall: Instant::now(),
        }
    }

    /// The 1-minute load average at the start.
    pub fn load_at_start(&self) -> Option<f64> {
        self.load
    }

    /// Usage since [`CpuMeter::start`], for a run that completed `items` items.
    pub fn finish(&self, items: u64) -> ResourceUsage {
        let wall = self.wall.elapsed().as_secs_f64();
        let cores = logical_cores();
        let cpu_seconds = match (self.cpu, process_cpu_time()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a).as_secs_f64()),
            _ => None,
        };
        ResourceUsage {
            cpu_seconds,
            cpu_utilization_pct: cpu_seconds
                .filter(|_| wall > 0.0)
                .map(|c| 100.0 * c / wall / cores as f64),
            items_per_cpu_second: cpu_seconds.filter(|&c| c > 0.0).map(|c| items as f64 / c),
            peak_rss_bytes: peak_rss_bytes(),
            load_avg_1m_at_start: self.load,
            cores,
        }
    }
}

/// Logical cores available to the process (1 when unknown).
pub fn logical_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// User + system CPU time consumed by the process so far.
pub fn process_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a complete `rusage` into the pointer on success.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: rc == 0, so the struct was initialized (and zeroed before that anyway).
        let usage = unsafe { usage.assume_init() };
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        Some(tv(usage.ru_utime) + tv(usage.ru_stime))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Peak resident set size of the process: `VmHWM` from `/proc/self/status` (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
}

/// The 1-minute load average from `/proc/loadavg` (Linux).
pub fn load_average_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
