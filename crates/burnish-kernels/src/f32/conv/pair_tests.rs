//! The pair tile (two weight panels on one block) against two single tiles, bit for bit.

use super::micro::{self, BRows, TileOut};
use super::{Epilogue, MR, NR, Terms};

/// The pair tile (12 x 16 on AVX-512, two 6 x 16 tiles elsewhere) gives two tiles' bits.
#[test]
fn a_pair_of_panels_gives_two_tiles_bits() {
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
            // SAFETY: every buffer holds the rows written; the tiles pick kernels this CPU has.
            unsafe {
                let o = out(&mut pair, 0, rows);
                micro::tile_pair(k, (&a0, &a1), &b, terms(0), o, &epi, None);
                let o = out(&mut two, 0, MR);
                micro::tile(k, &a0, BRows::Packed(&b), terms(0), o, &epi, None);
                let o = out(&mut two, MR, rows - MR);
                micro::tile(k, &a1, BRows::Packed(&b), terms(MR), o, &epi, None);
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&pair), bits(&two), "rows {rows} cols {cols}");
        }
    }
}
