//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

static TIMING: Mutex<()> = Mutex::new(());

/// Serializes timing-sensitive tests within one test binary (the machine has few cores).
pub fn timing_lock() -> MutexGuard<'static, ()> {
    TIMING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a timing-sensitive check up to `attempts` times, passing the attempt number (for fresh
/// seeds); fails with every attempt's message when none succeeds. On a shared, noisy machine a
/// single preemption can spoil one measurement; a real defect fails every attempt.
pub fn retry<T>(attempts: usize, mut check: impl FnMut(usize) -> Result<T, String>) -> T {
    let mut failures = Vec::new();
    for attempt in 0..attempts {
        match check(attempt) {
            Ok(v) => return v,
            Err(e) => {
                eprintln!("attempt {attempt} failed: {e}");
                failures.push(e);
            }
        }
    }
    panic!("all {attempts} attempts failed:\n{}", failures.join("\n"));
}

/// `Ok(())` when `actual` is within `tol` (relative) of `expected`.
pub fn within(what: &str, actual: f64, expected: f64, tol: f64) -> Result<(), String> {
    let rel = (actual - expected).abs() / expected.abs();
    if rel <= tol {
        Ok(())
    } else {
        Err(format!(
            "{what}: {actual:.4} is {:.1}% from {expected:.4} (tolerance {:.1}%)",
            rel * 100.0,
            tol * 100.0
        ))
    }
}
