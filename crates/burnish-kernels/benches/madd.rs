//! Microbenchmark of the two AVX2 int8 inner loops a 6 x 16 convolution tile can use, on data
//! in L1 (pure instruction throughput):
//!
//! * `vpmaddwd`: i16 x i16 pairs (what `conv2d_direct` runs): per step two 256-bit loads of
//!   16 pixels x 2 channels, six `vpbroadcastd`, twelve `vpmaddwd` + twelve `vpaddd` =
//!   192 multiply-adds, exact for every u8/i8 code;
//! * `vpmaddubsw`: u8 x i8 quads: per step 16 pixels x 4 channels, twelve `vpmaddubsw` (i16
//!   pair sums, saturating: exact only with 7-bit weights or activations) + twelve `vpmaddwd`
//!   against ones + twelve `vpaddd` = 384 multiply-adds;
//! * `vfmadd231ps`: the f32 6 x 16 tile of the runtime's f32 convolution, for the ceiling
//!   ratio: two loads, six broadcasts, twelve FMAs = 96 multiply-adds per step.
//!
//! Throughput is reported in multiply-adds. Measured on the 2-core Zen 3 (AVX2+FMA, no VNNI),
//! one thread: see the report in `direct/mod.rs`'s module doc.
//!
//! `cargo bench -p burnish-kernels --bench madd`

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const STEPS: usize = 512;

#[cfg(target_arch = "x86_64")]
mod loops {
    use std::arch::x86_64::*;

    use super::STEPS;

    /// # Safety
    /// AVX2; `x` holds `STEPS * 64` bytes, `w` `STEPS * 6` words.
    #[target_feature(enable = "avx2")]
    pub unsafe fn madd_i16(x: &[u8], w: &[u32]) -> i32 {
        let mut acc = [_mm256_setzero_si256(); 12];
        for s in 0..STEPS {
            // SAFETY: in bounds by the length contract.
            unsafe {
                let b0 = _mm256_loadu_si256(x.as_ptr().add(s * 64).cast());
                let b1 = _mm256_loadu_si256(x.as_ptr().add(s * 64 + 32).cast());
                for r in 0..6 {
                    let a = _mm256_set1_epi32(*w.get_unchecked(s * 6 + r) as i32);
                    acc[2 * r] = _mm256_add_epi32(acc[2 * r], _mm256_madd_epi16(a, b0));
                    acc[2 * r + 1] = _mm256_add_epi32(acc[2 * r + 1], _mm256_madd_epi16(a, b1));
                }
            }
        }
        fold(&acc)
    }

    /// # Safety
    /// AVX2; `x` holds `STEPS * 64` bytes, `w` `STEPS * 6` words.
    #[target_feature(enable = "avx2")]
    pub unsafe fn maddubs_u8(x: &[u8], w: &[u32]) -> i32 {
        let mut acc = [_mm256_setzero_si256(); 12];
        let ones = _mm256_set1_epi16(1);
        for s in 0..STEPS {
            // SAFETY: in bounds by the length contract.
            unsafe {
                let b0 = _mm256_loadu_si256(x.as_ptr().add(s * 64).cast());
                let b1 = _mm256_loadu_si256(x.as_ptr().add(s * 64 + 32).cast());
                for r in 0..6 {
                    let a = _mm256_set1_epi32(*w.get_unchecked(s * 6 + r) as i32);
                    let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(b0, a), ones);
                    let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(b1, a), ones);
                    acc[2 * r] = _mm256_add_epi32(acc[2 * r], p0);
                    acc[2 * r + 1] = _mm256_add_epi32(acc[2 * r + 1], p1);
                }
            }
        }
        fold(&acc)
    }

    /// # Safety
    /// AVX2 and FMA; `x` holds `STEPS * 16` floats, `w` `STEPS * 6`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma_f32(x: &[f32], w: &[f32]) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 12];
        for s in 0..STEPS {
            // SAFETY: in bounds by the length contract.
            unsafe {
                let b0 = _mm256_loadu_ps(x.as_ptr().add(s * 16));
                let b1 = _mm256_loadu_ps(x.as_ptr().add(s * 16 + 8));
                for r in 0..6 {
                    let a = _mm256_set1_ps(*w.get_unchecked(s * 6 + r));
                    acc[2 * r] = _mm256_fmadd_ps(a, b0, acc[2 * r]);
                    acc[2 * r + 1] = _mm256_fmadd_ps(a, b1, acc[2 * r + 1]);
                }
            }
        }
        let mut s = _mm256_setzero_ps();
        for a in &acc {
            s = _mm256_add_ps(s, *a);
        }
        _mm256_cvtss_f32(s)
    }

    #[target_feature(enable = "avx2")]
    fn fold(acc: &[__m256i; 12]) -> i32 {
        let mut s = _mm256_setzero_si256();
        for a in acc {
            s = _mm256_add_epi32(s, *a);
        }
        _mm256_extract_epi32::<0>(s) ^ _mm256_extract_epi32::<7>(s)
    }
}

fn bench(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let x: Vec<u8> = (0..STEPS * 64).map(|i| (i * 7 % 251) as u8).collect();
        let w: Vec<u32> = (0..STEPS * 6)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761) & 0x3f3f_3f3f)
            .collect();
        let mut group = c.benchmark_group("madd_6x16_tile");
        group.sample_size(30);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements((STEPS * 192) as u64));
        // SAFETY: AVX2 detected above; buffers sized by STEPS.
        group.bench_function("vpmaddwd_i16_pairs", |b| {
            b.iter(|| unsafe { loops::madd_i16(black_box(&x), black_box(&w)) })
        });
        group.throughput(Throughput::Elements((STEPS * 384) as u64));
        // SAFETY: as above.
        group.bench_function("vpmaddubsw_u8_quads", |b| {
            b.iter(|| unsafe { loops::maddubs_u8(black_box(&x), black_box(&w)) })
        });
        if std::arch::is_x86_feature_detected!("fma") {
            let xf: Vec<f32> = (0..STEPS * 16).map(|i| (i % 13) as f32 * 0.1).collect();
            let wf: Vec<f32> = (0..STEPS * 6).map(|i| (i % 7) as f32 * 0.01).collect();
            group.throughput(Throughput::Elements((STEPS * 96) as u64));
            // SAFETY: AVX2 and FMA detected; buffers sized by STEPS.
            group.bench_function("vfmadd_f32", |b| {
                b.iter(|| unsafe { loops::fma_f32(black_box(&xf), black_box(&wf)) })
            });
        }
        group.finish();
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = c;
}

criterion_group!(benches, bench);
criterion_main!(benches);
