//! Helpers shared by the kernel benches and examples: seeded data, the f32 GEMM baseline and
//! a best-of timer.
#![allow(dead_code)]

/// The fastest of `reps` timed calls of `f`, in seconds (the fairer figure on a shared machine).
pub fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A seeded stream of `len` random 32-bit values (the project's one generator).
pub fn pattern(len: usize, seed: u32) -> impl Iterator<Item = u32> {
    let mut rng = burnish_stats::Rng::new(u64::from(seed));
    (0..len).map(move |_| (rng.next_u64() >> 32) as u32)
}

/// `out[m x n] = a[m x k] * b[k x n]`, row-major, with the `gemm` crate.
pub fn f32_gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], threads: usize) {
    let par = if threads == 1 {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(0)
    };
    // SAFETY: `a` is m x k, `b` k x n, `c` m x n, all row-major and contiguous (column stride 1,
    // row stride = columns); `c` is exclusively borrowed and not read (`read_dst` false).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}
