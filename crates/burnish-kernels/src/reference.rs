//! Slow, obviously correct integer references for tests of the kernels and their callers.

use crate::pack::Activation;

/// `out[i, j] = sum_k (a[i, k] - zp) * b[k, j]` with plain loops (`a` row-major `m` x `k`,
/// `b` row-major `k` x `n`). Values are compared on the offset-binary scale, so `i8` inputs
/// give the same result as in signed arithmetic.
pub fn gemm_i32<A: Activation>(a: &[A], zp: A, b: &[i8], m: usize, k: usize, n: usize) -> Vec<i32> {
    let zp = i32::from(zp.to_offset_u8());
    let mut out = vec![0i32; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k)
                .map(|p| (i32::from(a[i * k + p].to_offset_u8()) - zp) * i32::from(b[p * n + j]))
                .sum();
        }
    }
    out
}
