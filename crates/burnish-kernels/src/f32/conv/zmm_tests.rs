//! The AVX-512 tile against the AVX2 tile, bit for bit.

use super::micro::{BRows, TileOut};
use super::zmm::tile;
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
