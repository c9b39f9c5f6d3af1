//! The AVX-512 tiles against the AVX2 tile and against each other, bit for bit.

use super::micro::{BRows, TileOut};
use super::zmm::{tile, tile_pair};
use super::{Epilogue, MR, NR, Terms};

/// Runs one tile with both kernels on the same operands; returns (zmm, avx2) outputs.
#[allow(clippy::too_many_arguments)]
fn both(
    k: usize,
    a: &[f32],
    b: BRows<'_>,
    terms: Terms<'_>,
    rows: usize,
    cols: usize,
    epi: &Epilogue,
    residual: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let run = |zmm: bool| {
        let mut out = residual.to_vec();
        let tile_out = TileOut {
            ptr: out.as_mut_ptr(),
            row_stride: NR + 3,
            rows,
            cols,
        };
        // SAFETY: the CPU was checked by the caller; `out` holds `MR` rows of `NR + 3`.
        unsafe {
            if zmm {
                tile(k, a, b, terms, tile_out, epi, None);
            } else {
                super::micro::avx2::tile(k, a, b, terms, tile_out, epi, None);
            }
        }
        out
    };
    (run(true), run(false))
}

#[test]
fn a_pair_of_panels_gives_two_tiles_bits() {
    let f = crate::cpu::features();
    if !(f.avx512() && f.avx2_fma()) {
        eprintln!("skipped: this CPU lacks AVX-512F");
        return;
    }
    let mut seed = 5u32;
    let mut next = move || {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let k = 29;
    let (a0, a1): (Vec<f32>, Vec<f32>) = (0..k * MR).map(|_| (next(), next())).unzip();
    let b: Vec<f32> = (0..k * NR + NR).map(|_| next()).collect();
    let bias: Vec<f32> = (0..2 * MR).map(|_| next()).collect();
    let (scale, shift): (Vec<f32>, Vec<f32>) = (0..2 * MR).map(|_| (next(), next())).unzip();
    let residual: Vec<f32> = (0..2 * MR * NR).map(|_| next()).collect();
    for (rows, cols) in [(12, 16), (7, 16), (9, 5)] {
        for (affine, accumulate) in [(false, false), (true, true)] {
            let terms = |from: usize| Terms {
                bias: &bias[from..],
                affine: affine.then_some((&scale[from..], &shift[from..])),
            };
            let epi = Epilogue {
                min: -0.2,
                max: 0.3,
                accumulate,
            };
            let out = |o: &mut Vec<f32>, at: usize, rows: usize| TileOut {
                ptr: o[at * NR..].as_mut_ptr(),
                row_stride: NR,
                rows,
                cols,
            };
            let (mut pair, mut two) = (residual.clone(), residual.clone());
            // SAFETY: the CPU was checked; every buffer holds the rows written.
            unsafe {
                let o = out(&mut pair, 0, rows);
                tile_pair(k, (&a0, &a1), &b, terms(0), o, &epi, None);
                let o = out(&mut two, 0, MR);
                tile(k, &a0, BRows::Packed(&b), terms(0), o, &epi, None);
                let o = out(&mut two, MR, rows - MR);
                tile(k, &a1, BRows::Packed(&b), terms(MR), o, &epi, None);
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&pair), bits(&two), "rows {rows} cols {cols}");
        }
    }
}

#[test]
fn the_zmm_tile_gives_the_avx2_tiles_bits() {
    let f = crate::cpu::features();
    if !(f.avx512() && f.avx2_fma()) {
        eprintln!("skipped: this CPU lacks AVX-512F");
        return;
    }
    let mut seed = 9u32;
    let mut next = move || {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let k = 37;
    let a: Vec<f32> = (0..k * MR).map(|_| next()).collect();
    let input: Vec<f32> = (0..k * NR * 4 + 64).map(|_| next()).collect();
    let bias: Vec<f32> = (0..MR).map(|_| next()).collect();
    let (scale, shift): (Vec<f32>, Vec<f32>) = (0..MR).map(|_| (next(), next())).unzip();
    let residual: Vec<f32> = (0..MR * (NR + 3)).map(|_| next()).collect();
    let offsets: Vec<usize> = (0..k).map(|i| i * 2 * NR + (i % 3)).collect();
    let sources = [
        BRows::Packed(&input),
        BRows::Indirect {
            lo: input.as_ptr(),
            hi: input[NR / 2..].as_ptr(),
            offsets: &offsets,
        },
        BRows::Indirect {
            lo: input.as_ptr(),
            hi: input[NR + 5..].as_ptr(),
            offsets: &offsets,
        },
    ];
    for b in sources {
        for (rows, cols) in [(6, 16), (4, 16), (6, 9), (1, 3)] {
            for (affine, accumulate, min) in [(false, false, f32::NEG_INFINITY), (true, true, 0.0)]
            {
                let terms = Terms {
                    bias: &bias,
                    affine: affine.then_some((&scale[..], &shift[..])),
                };
                let epi = Epilogue {
                    min,
                    max: 0.3,
                    accumulate,
                };
                let (z, y) = both(k, &a, b, terms, rows, cols, &epi, &residual);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&z),
                    bits(&y),
                    "rows {rows} cols {cols} affine {affine}"
                );
            }
        }
    }
}
