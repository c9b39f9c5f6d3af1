//! The AVX2 requantizing epilogue against the portable definition ([`Requantize::code`]) on
//! sums whose real values land exactly on, and next to, half-integers of the output scale
//! (ties, and where any shortcut around the division would pick the other integer), with and
//! without a residual.

use super::epilogue::{OutputScale, Place, Requantize, Residual};
use super::{MR, NR, Tile};

/// Runs every sum in `accs` through both epilogues (tiles of `MR x NR`, channel `c` of each
/// row) and compares the codes.
fn compare(accs: &[i32], scale: &[f32; MR], y_scale: f32, residual: Option<&[u8]>) -> usize {
    let rq = Requantize::<u8> {
        scale: OutputScale::Float {
            scale,
            bias: None,
            y_scale,
        },
        zero_point: 10,
        min: 0,
        max: 255,
        residual: residual.map(|codes| Residual {
            codes,
            zero_point: 100,
            scale: y_scale * 0.5,
        }),
    };
    let mut ties = 0;
    for (t, chunk) in accs.chunks_exact(MR * NR).enumerate() {
        let mut tile: Tile = [[0; NR]; MR];
        for (r, row) in tile.iter_mut().enumerate() {
            row.copy_from_slice(&chunk[r * NR..][..NR]);
        }
        let at = t * NR;
        let mut out = vec![0u8; (t + 1) * NR + (MR - 1) * accs.len()];
        let place = Place {
            channel: 0,
            at,
            stride: accs.len(),
            rows: MR,
            cols: NR,
        };
        // SAFETY: AVX2 is checked by the caller; rows `at + r * stride .. + NR` are inside
        // `out`, and the residual (when present) covers them.
        unsafe { super::avx2::store_quant(&tile, place, out.as_mut_ptr(), &rq) };
        for (r, row) in tile.iter().enumerate() {
            for (j, &acc) in row.iter().enumerate() {
                let i = at + r * accs.len() + j;
                let z = residual.map_or(0, |z| i32::from(z[i]));
                let exact = f64::from(acc as f32 * scale[r]) / f64::from(y_scale);
                ties += usize::from(exact.fract().abs() == 0.5);
                assert_eq!(
                    i32::from(out[i]),
                    rq.code(acc, r, z),
                    "acc {acc}, scale {}, y_scale {y_scale}",
                    scale[r]
                );
            }
        }
    }
    ties
}

#[test]
fn avx2_epilogue_rounds_like_the_portable_one() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        return;
    }
    // `acc * scale / y_scale` is a half-integer exactly when `acc` is an odd multiple of
    // `y_scale / (2 * scale)`: the sweeps cover those and their neighbours.
    let sweep: Vec<i32> = (-3000..3000 - 3000 % (MR * NR) as i32).collect();
    let mut ties = 0;
    for y_scale in [3.0f32, 0.3, 7.0, 0.1, 1.7, 0.0235, 6.0, 12.5, 0.75] {
        for scale in [
            [0.5f32, 0.25, 1.0, 0.125, 0.05, 0.1],
            [0.3, 0.7, 0.15, 0.0235, 1.5, 0.01],
        ] {
            ties += compare(&sweep, &scale, y_scale, None);
        }
    }
    assert!(ties > 1000, "only {ties} exact half-integers");
    let residual: Vec<u8> = (0..MR * sweep.len())
        .map(|i| (i * 37 % 251) as u8)
        .collect();
    compare(
        &sweep,
        &[0.5, 0.25, 1.0, 0.125, 0.05, 0.1],
        3.0,
        Some(&residual),
    );
}

#[test]
fn narrow_blocks_write_only_their_columns() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        return;
    }
    let scale = [0.5f32, 0.25, 1.0, 0.125, 0.05, 0.1];
    let stride = 40;
    let residual: Vec<u8> = (0..MR * stride).map(|i| (i * 37 % 251) as u8).collect();
    for cols in [1, 7, 8, 15] {
        for with_residual in [false, true] {
            let rq = Requantize::<u8> {
                scale: OutputScale::Float {
                    scale: &scale,
                    bias: None,
                    y_scale: 0.3,
                },
                zero_point: 10,
                min: 0,
                max: 255,
                residual: with_residual.then(|| Residual {
                    codes: &residual[..(MR - 1) * stride + 24 + cols],
                    zero_point: 100,
                    scale: 0.15,
                }),
            };
            let mut tile: Tile = [[0; NR]; MR];
            for (r, row) in tile.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = (r as i32 * 131 + j as i32 * 17) - 300;
                }
            }
            let mut out = vec![0xABu8; MR * stride];
            let place = Place {
                channel: 0,
                at: 24,
                stride,
                rows: MR,
                cols,
            };
            // SAFETY: AVX2 was checked; rows `24 + r * 40 .. + cols` are inside `out` and the
            // residual.
            unsafe { super::avx2::store_quant(&tile, place, out.as_mut_ptr(), &rq) };
            for (r, row) in tile.iter().enumerate() {
                let at = 24 + r * stride;
                for (j, (&o, &acc)) in out[at..at + NR].iter().zip(row).enumerate() {
                    if j < cols {
                        let z = if with_residual {
                            i32::from(residual[at + j])
                        } else {
                            0
                        };
                        assert_eq!(i32::from(o), rq.code(acc, r, z), "cols {cols}");
                    } else {
                        assert_eq!(o, 0xAB, "cols {cols}: pixel {j} written");
                    }
                }
            }
        }
    }
}
