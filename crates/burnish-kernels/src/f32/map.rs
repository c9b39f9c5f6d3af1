//! Element-wise maps over `f32` slices, compiled three times (AVX-512, AVX2+FMA, baseline)
//! and chosen from [`crate::cpu::features`], so the closure's arithmetic (e.g. [`super::math`])
//! vectorizes at the CPU's full width. Large slices are split across the rayon pool.

use rayon::prelude::*;

use crate::cpu;

/// Elements below which a map stays on the calling thread.
pub const PARALLEL_ELEMENTS: usize = 1 << 15;
const CHUNK: usize = 1 << 13;

/// `v[i] = f(v[i])`.
pub fn map_inplace<F: Fn(f32) -> f32 + Sync + Send + Copy>(v: &mut [f32], f: F) {
    if v.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        v.par_chunks_mut(CHUNK).for_each(|c| dispatch(c, f));
    } else {
        dispatch(v, f);
    }
}

/// `v[i] = f(v[i], b[i % b.len()])`: a row-broadcast second operand (a bias per last-axis
/// element). `b` must not be empty and must divide `v`'s length.
pub fn map_rows<F: Fn(f32, f32) -> f32 + Sync + Send + Copy>(v: &mut [f32], b: &[f32], f: F) {
    if b.is_empty() || !v.len().is_multiple_of(b.len()) {
        return;
    }
    let chunk = CHUNK.div_ceil(b.len()).max(1) * b.len();
    let rows = |c: &mut [f32]| {
        for row in c.chunks_exact_mut(b.len()) {
            dispatch2(row, b, f);
        }
    };
    if v.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        v.par_chunks_mut(chunk).for_each(rows);
    } else {
        rows(v);
    }
}

fn dispatch<F: Fn(f32) -> f32 + Copy>(v: &mut [f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed).
            return unsafe { map_avx512(v, f) };
        }
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { map_avx2(v, f) };
        }
    }
    v.iter_mut().for_each(|x| *x = f(*x));
}

fn dispatch2<F: Fn(f32, f32) -> f32 + Copy>(v: &mut [f32], b: &[f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed).
            return unsafe { map2_avx512(v, b, f) };
        }
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { map2_avx2(v, b, f) };
        }
    }
    v.iter_mut().zip(b).for_each(|(x, &c)| *x = f(*x, c));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn map_avx512<F: Fn(f32) -> f32>(v: &mut [f32], f: F) {
    v.iter_mut().for_each(|x| *x = f(*x));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map_avx2<F: Fn(f32) -> f32>(v: &mut [f32], f: F) {
    v.iter_mut().for_each(|x| *x = f(*x));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn map2_avx512<F: Fn(f32, f32) -> f32>(v: &mut [f32], b: &[f32], f: F) {
    v.iter_mut().zip(b).for_each(|(x, &c)| *x = f(*x, c));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map2_avx2<F: Fn(f32, f32) -> f32>(v: &mut [f32], b: &[f32], f: F) {
    v.iter_mut().zip(b).for_each(|(x, &c)| *x = f(*x, c));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_element_once_at_any_length() {
        for n in [0, 1, 7, 16, 17, 1000, PARALLEL_ELEMENTS + 3] {
            let mut v: Vec<f32> = (0..n).map(|i| i as f32).collect();
            map_inplace(&mut v, |x| x * 2.0 + 1.0);
            assert!(
                v.iter()
                    .enumerate()
                    .all(|(i, &x)| x == i as f32 * 2.0 + 1.0)
            );
            let mut w: Vec<f32> = vec![1.0; n * 3];
            map_rows(&mut w, &[0.0, 1.0, 2.0], |x, b| x + b);
            assert!(w.chunks(3).all(|r| r == [1.0, 2.0, 3.0]));
        }
    }
}
