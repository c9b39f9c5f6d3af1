//! One-thread runs on the caller's own thread, as ONNX Runtime runs `intra_op_num_threads = 1`.
//!
//! A one-thread session that handed every run to its pool's worker paid two cross-thread wakeups
//! per run (the worker picks the job up, then wakes the caller that sleeps until it is done).
//! Instead, each calling thread joins a private one-thread rayon pool as its only worker
//! (`use_current_thread`), so `install` runs the graph inline and every `par_iter` inside it,
//! ours or Burn's, runs sequentially on that thread.
//!
//! A thread joins such a pool once and stays its worker (rayon cannot detach it): rayon work
//! the thread starts later outside a session also runs on it alone. Sessions that ask for every
//! core ([`crate::SessionOptions::threads`] `None`) therefore run on a shared pool when called
//! from such a thread, not inline. At most [`MAX_JOINED`] threads join one (rayon leaks a joined
//! pool's registry when its thread exits); one-thread runs from further threads are handed to
//! the session's pool as before.

use std::cell::OnceCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::ThreadPool;

/// Threads that may join a private pool. rayon leaks such a pool's registry (a few KiB) when its
/// thread exits, so a program that starts a thread per request would leak without bound; past
/// this many threads, one-thread runs go through the session's own pool instead.
const MAX_JOINED: usize = 256;

static JOINED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's private one-thread pool; `None` when the thread already belonged to
    /// another rayon pool (then it cannot join one of its own).
    static OWN: OnceCell<Option<ThreadPool>> = const { OnceCell::new() };
}

/// Runs `f` inline on the calling thread with rayon limited to that thread, or with
/// `fallback` (a one-thread pool) when this thread is already a worker of another pool.
pub(crate) fn run_one_thread<T: Send>(fallback: &ThreadPool, f: impl FnOnce() -> T + Send) -> T {
    OWN.with(|own| {
        let pool = own.get_or_init(|| {
            if JOINED.fetch_add(1, Ordering::Relaxed) >= MAX_JOINED {
                return None;
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .use_current_thread()
                .build()
                .ok()
        });
        match pool {
            Some(pool) => pool.install(f),
            None => fallback.install(f),
        }
    })
}

/// Runs `f` with every core: directly, or on a shared default-size pool when this thread has
/// joined its private one-thread pool (where rayon would otherwise see a single thread).
pub(crate) fn run_all_cores<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let joined = OWN.with(|own| matches!(own.get(), Some(Some(_))));
    if !joined {
        return f();
    }
    static SHARED: OnceLock<Option<ThreadPool>> = OnceLock::new();
    match SHARED.get_or_init(|| rayon::ThreadPoolBuilder::new().build().ok()) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_thread_pool() -> ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool")
    }

    #[test]
    fn one_thread_runs_inline_and_all_cores_still_get_every_core() {
        let fallback = one_thread_pool();
        let every_core = rayon::ThreadPoolBuilder::new()
            .build()
            .expect("pool")
            .current_num_threads();
        std::thread::spawn(move || {
            let caller = std::thread::current().id();
            for _ in 0..2 {
                let (threads, ran_on) = run_one_thread(&fallback, || {
                    (rayon::current_num_threads(), std::thread::current().id())
                });
                assert_eq!((threads, ran_on), (1, caller));
            }
            assert_eq!(run_all_cores(rayon::current_num_threads), every_core);
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn a_thread_of_another_pool_uses_the_fallback_pool() {
        let fallback = one_thread_pool();
        let other = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        other.install(|| {
            let caller = std::thread::current().id();
            let (threads, ran_on) = run_one_thread(&fallback, || {
                (rayon::current_num_threads(), std::thread::current().id())
            });
            assert_eq!(threads, 1);
            assert_ne!(ran_on, caller);
        });
    }
}
