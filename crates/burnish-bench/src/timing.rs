//! Precise waiting: sleep for the bulk of an interval, then spin for the last stretch.
//!
//! `thread::sleep` overshoots by the kernel's timer slack and wake-up latency (tens of µs on an
//! idle Linux box, more on a loaded one). The load generator and the synthetic targets need
//! sub-millisecond precision, so they sleep until [`SPIN_MARGIN`] before the deadline and spin
//! the rest. The spin costs CPU: a thread waiting for a deadline burns up to `SPIN_MARGIN` of CPU
//! time per wait, which shows in the process CPU utilization of a run.
//!
//! The margin is short on purpose. With the timer slack set to 1 ns ([`precise_timer_slack`]),
//! Linux wakes a sleeper within a few tens of µs, and the scheduler favours threads that slept;
//! a thread that spins for long competes with every runnable process and, on a busy machine, is
//! preempted for whole milliseconds. Measured on a 2-core machine running two compilers, open-loop
//! scheduling lateness at 10k QPS had a p99 of 15-22 µs with a 20-50 µs margin, against 0.9-1.8 ms
//! with a 100-200 µs one.

use std::time::{Duration, Instant};

/// How long before a deadline [`wait_until`] stops sleeping and starts spinning.
pub const SPIN_MARGIN: Duration = Duration::from_micros(50);

/// Waits until `deadline`: sleeps while more than [`SPIN_MARGIN`] remains, then spins.
///
/// Returns immediately when the deadline has passed.
pub fn wait_until(deadline: Instant) {
    wait_until_with_margin(deadline, SPIN_MARGIN);
}

/// Like [`wait_until`], with an explicit spin margin (zero: sleep only).
pub fn wait_until_with_margin(deadline: Instant, margin: Duration) {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let remaining = deadline - now;
        if remaining > margin {
            std::thread::sleep(remaining - margin);
            if margin.is_zero() {
                return;
            }
        } else {
            break;
        }
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// Asks the kernel for the finest timer slack on the calling thread (Linux), so that short
/// sleeps wake close to their deadline. A no-op elsewhere or when refused.
pub fn precise_timer_slack() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_TIMERSLACK takes an integer argument and only affects this thread.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
        }
    }
}

/// A duration in microseconds, as `f64`.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Nanoseconds as a `u64`, saturating (about 584 years).
pub fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
