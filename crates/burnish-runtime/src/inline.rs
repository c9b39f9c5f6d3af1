//! Runs on the caller's own thread, as ONNX Runtime runs a session's intra-op work with the
//! calling thread as one of its threads.
//!
//! A session that handed every run to its pool's workers paid two cross-thread wakeups per run
//! (a worker picks the job up, then wakes the caller that sleeps until it is done): ~25 us on a
//! shared 2-core machine, a third of a streaming VAD model's run. Instead, each calling thread
//! joins a private rayon pool of the session's size as one of its workers
//! (`use_current_thread`), so `install` runs the graph inline and every `par_iter` inside it,
//! ours or Burn's, splits between that thread and the pool's other workers. Threads that call
//! sessions concurrently each have their own pool (like one instance per thread in Triton),
//! instead of queueing on one.
//!
//! A thread joins such a pool once and stays its worker (rayon cannot detach it): rayon work the
//! thread starts later outside a session also runs on that pool, and sessions of another size
//! called from it go through their own pool as before. Sessions that ask for every core
//! ([`crate::SessionOptions::threads`] `None`) run on a shared pool when called from a joined
//! thread. Joined pools hold at most [`MAX_JOINED`] threads in all (rayon leaks a joined pool's
//! registry when its thread exits); past that, runs are handed to the session's pool.

use std::cell::OnceCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::ThreadPool;

/// Threads (callers and the workers started for them) that joined pools may hold. rayon leaks
/// such a pool's registry (a few KiB) when its thread exits, so a program that starts a thread
/// per request would leak without bound; past this many, runs go through the session's pool.
const MAX_JOINED: usize = 256;

static JOINED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's private pool and its size; `None` when the thread already belonged to
    /// another rayon pool (then it cannot join one of its own) or the budget was spent.
    static OWN: OnceCell<Option<(usize, ThreadPool)>> = const { OnceCell::new() };
}

/// Runs `f` inline on the calling thread with rayon limited to a pool of `threads` threads
/// (the caller and `threads - 1` workers), or with `fallback` (the session's pool of that size)
/// when this thread cannot join one or joined one of another size.
pub(crate) fn run_joined<T: Send>(
    threads: usize,
    fallback: &ThreadPool,
    f: impl FnOnce() -> T + Send,
) -> T {
    OWN.with(|own| {
        let pool = own.get_or_init(|| {
            let taken = JOINED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |joined| {
                joined.checked_add(threads).filter(|&n| n <= MAX_JOINED)
            });
            if taken.is_err() {
                return None;
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .use_current_thread()
                .build()
                .ok()
                .map(|pool| (threads, pool))
        });
        match pool {
            Some((n, pool)) if *n == threads => pool.install(f),
            _ => fallback.install(f),
        }
    })
}

/// Runs `f` (inside a pool) while the pool's other workers poll it for parallel work, as
/// onnxruntime's intra-op threads spin between parallel sections, instead of falling asleep
/// after each one: rayon parks an idle worker within microseconds, so every later `par_iter`
/// of the run paid a futex wake-up before its second half started (a few microseconds to tens
/// of them; a graph of small ops has hundreds of such sections per run).
///
/// Each helper is a job on this thread's deque that another worker steals and runs until `f`
/// returns, executing whatever parallel work `f` splits off meanwhile (`rayon::yield_now`).
/// A helper that this thread picks up itself (while it waits inside a `join`) returns at once.
pub(crate) fn with_polling_workers<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let helpers = rayon::current_num_threads().saturating_sub(1);
    if helpers == 0 || rayon::current_thread_index().is_none() {
        return f();
    }
    let done = AtomicBool::new(false);
    let caller = rayon::current_thread_index();
    rayon::scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| {
                if rayon::current_thread_index() == caller {
                    return;
                }
                while !done.load(Ordering::Acquire) {
                    if rayon::yield_now() != Some(rayon::Yield::Executed) {
                        std::hint::spin_loop();
                    }
                }
            });
        }
        let out = f();
        done.store(true, Ordering::Release);
        out
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
                let (threads, ran_on) = run_joined(1, &fallback, || {
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
    fn a_caller_joins_a_pool_of_the_sessions_size_once() {
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        std::thread::spawn(move || {
            let caller = std::thread::current().id();
            let probe = || (rayon::current_num_threads(), std::thread::current().id());
            for _ in 0..2 {
                assert_eq!(run_joined(2, &two, probe), (2, caller));
            }
            let (threads, ran_on) = run_joined(3, &three, probe);
            assert_eq!(threads, 3);
            assert_ne!(ran_on, caller, "another size runs on its own pool");
            let (sum, _) = run_joined(2, &two, || {
                use rayon::prelude::*;
                ((0..1000u64).into_par_iter().sum::<u64>(), 0)
            });
            assert_eq!(sum, 499_500);
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
            let (threads, ran_on) = run_joined(1, &fallback, || {
                (rayon::current_num_threads(), std::thread::current().id())
            });
            assert_eq!(threads, 1);
            assert_ne!(ran_on, caller);
        });
    }

    #[test]
    fn polling_workers_take_the_parallel_work_and_stop_with_the_run() {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        for _ in 0..50 {
            let (sum, threads) = pool.install(|| {
                with_polling_workers(|| {
                    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
                    let values: Vec<u64> = (0..20_000).collect();
                    let sum = values
                        .par_iter()
                        .copied()
                        .with_max_len(100)
                        .map(|v| {
                            seen.lock()
                                .expect("lock")
                                .insert(std::thread::current().id());
                            v
                        })
                        .sum::<u64>();
                    let nested = rayon::join(|| 1, || with_polling_workers(|| 2));
                    (
                        sum + nested.0 + nested.1,
                        seen.into_inner().expect("lock").len(),
                    )
                })
            });
            assert_eq!(sum, 199_990_000 + 3);
            assert!((1..=3).contains(&threads));
        }
        assert_eq!(with_polling_workers(|| 7), 7, "outside a pool it just runs");
    }
}
