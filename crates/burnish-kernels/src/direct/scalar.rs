//! The portable direct-convolution microkernel: the AVX2 computation in plain Rust, for CPUs
//! without AVX2 and as a test reference.

use super::{MR, NR, Rows, Tile};

/// Sums one `MR x NR` tile over `steps` reduction steps, every pixel of row `r` from `init[r]`.
///
/// # Safety
/// `panel` holds `steps * MR` words; both halves of every row of `b` for `steps` steps hold
/// `NR` readable i16 values.
pub(crate) unsafe fn tile(steps: usize, panel: &[u32], b: Rows<'_, i16>, init: &[i32; MR]) -> Tile {
    let mut acc = init.map(|v| [v; NR]);
    for s in 0..steps {
        let (h0, h1) = b.halves(s);
        // SAFETY: the caller guarantees NR readable values per half.
        let halves = unsafe {
            [
                std::slice::from_raw_parts(h0, NR),
                std::slice::from_raw_parts(h1, NR),
            ]
        };
        let w = &panel[s * MR..][..MR];
        for (row, &wr) in acc.iter_mut().zip(w) {
            let (w0, w1) = (
                i32::from(wr as u16 as i16),
                i32::from((wr >> 16) as u16 as i16),
            );
            let pixels = halves.iter().flat_map(|h| h.chunks_exact(2));
            for (a, px) in row.iter_mut().zip(pixels) {
                *a += i32::from(px[0]) * w0 + i32::from(px[1]) * w1;
            }
        }
    }
    acc
}
